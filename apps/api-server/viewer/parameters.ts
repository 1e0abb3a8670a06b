// The page's filter bar is rendered by the server with the initial selection; the controls are the
// one source of truth: this reads them back into the contract's InputParameters.

type Scalar = string | number | boolean | null;

/** Contract InputParameters (§1.10). */
export interface InputParameters {
  timerange?: string;
  aggregation?: string;
  tz?: string;
  filters?: Array<{ variable_name: string; selected_values: Scalar[] }>;
}

function typed(value: string, valueType: string | undefined): Scalar {
  switch (valueType) {
    case 'NUMBER': {
      const n = Number(value);
      return value.trim() !== '' && Number.isFinite(n) ? n : value;
    }
    case 'BOOLEAN':
      return value === 'true';
    case 'DATE_TIME':
      // datetime-local gives HH:MM when the seconds are zero
      return /T\d\d:\d\d$/.test(value) ? `${value}:00` : value;
    default:
      return value;
  }
}

/** Unix seconds of a `YYYY-MM-DD` date at 00:00:00 (start) or 23:59:59 (end) UTC. */
function dateToEpoch(date: string, end: boolean): string {
  const ms = Date.parse(`${date}T${end ? '23:59:59' : '00:00:00'}Z`);
  return Number.isFinite(ms) ? String(Math.floor(ms / 1000)) : '';
}

function selectedValues(control: HTMLElement): Scalar[] {
  const kind = control.dataset.kind;
  const valueType = control.dataset.valueType;
  const input = control.querySelector<HTMLInputElement>('input');
  const select = control.querySelector<HTMLSelectElement>('select');
  switch (kind) {
    case 'select':
    case 'two_way':
      return select && select.value !== '' ? [typed(select.value, valueType)] : [];
    case 'multi':
      return select ? [...select.selectedOptions].map((o) => typed(o.value, valueType)) : [];
    case 'text':
    case 'single':
      return input && input.value !== '' ? [typed(input.value, valueType)] : [];
    case 'text_multi':
      return input
        ? input.value
            .split(',')
            .map((v) => v.trim())
            .filter(Boolean)
            .map((v) => typed(v, valueType))
        : [];
    case 'checkbox':
      return input ? [input.checked] : [];
    case 'range': {
      const from = control.querySelector<HTMLInputElement>('input.sl-from')?.value ?? '';
      const to = control.querySelector<HTMLInputElement>('input.sl-to')?.value ?? '';
      if (from === '' && to === '') return [];
      return [from === '' ? null : typed(from, valueType), to === '' ? null : typed(to, valueType)];
    }
    default:
      return [];
  }
}

/** The built-in timerange control: a preset, or a custom from/to of dates. */
function timerangeValue(control: HTMLElement): string | undefined {
  const select = control.querySelector<HTMLSelectElement>('select');
  if (!select) return undefined;
  if (select.value !== 'custom') return select.value === '' ? undefined : select.value;
  const from = control.querySelector<HTMLInputElement>('input.sl-from')?.value ?? '';
  const to = control.querySelector<HTMLInputElement>('input.sl-to')?.value ?? '';
  return `${from ? dateToEpoch(from, false) : ''}~${to ? dateToEpoch(to, true) : ''}`;
}

/** Reads every control of the filter bar. */
export function readParameters(form: HTMLElement): InputParameters {
  const out: InputParameters = {};
  const filters: NonNullable<InputParameters['filters']> = [];
  for (const control of form.querySelectorAll<HTMLElement>('[data-param]')) {
    switch (control.dataset.param) {
      case 'filter':
        if (control.dataset.variable) filters.push({ variable_name: control.dataset.variable, selected_values: selectedValues(control) });
        break;
      case 'timerange': {
        const value = timerangeValue(control);
        if (value !== undefined) out.timerange = value;
        break;
      }
      case 'aggregation':
      case 'tz': {
        const value = control.querySelector<HTMLSelectElement>('select')?.value;
        if (value) out[control.dataset.param] = value;
        break;
      }
    }
  }
  if (filters.length) out.filters = filters;
  return out;
}

/** Shows the custom from/to inputs of the timerange control only while "Custom range" is chosen. */
export function syncTimerangeControl(form: HTMLElement): void {
  for (const control of form.querySelectorAll<HTMLElement>('[data-param="timerange"]')) {
    const custom = control.querySelector<HTMLSelectElement>('select')?.value === 'custom';
    for (const el of control.querySelectorAll<HTMLElement>('.sl-custom')) el.hidden = !custom;
  }
}
