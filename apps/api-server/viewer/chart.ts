// Loaded on demand (a separate chunk): tables and controls work before vega arrives.
import vegaEmbed from 'vega-embed';
import { expressionInterpreter } from 'vega-interpreter';

export interface RenderedChart {
  /** Ends the chart's view (listeners, timers). */
  finalize(): void;
}

/**
 * Draws a Vega-Lite spec into `element` as SVG. The strict Content-Security-Policy of the page
 * forbids `eval`, so expressions run through vega's interpreter (`ast: true`); vega-embed's action
 * menu and injected styles are off (the page's stylesheet has what it needs).
 */
export async function renderChart(element: HTMLElement, spec: unknown): Promise<RenderedChart> {
  const result = await vegaEmbed(
    element,
    spec as never,
    {
      renderer: 'svg',
      actions: false,
      ast: true,
      expr: expressionInterpreter,
      defaultStyle: false,
      tooltip: { disableDefaultStyle: true },
    } as never,
  );
  // the chart's data stays reachable from its element (scripts, tests): `el.vegaView.data('source_0')`
  Object.defineProperty(element, 'vegaView', { value: result.view, configurable: true });
  return { finalize: () => result.finalize() };
}
