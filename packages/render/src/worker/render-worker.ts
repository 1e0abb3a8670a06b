// Runs inside a render worker thread: takes tasks from the parent one at a time and posts each
// file back (the bytes transferred, not copied). The thread stays warm between tasks: loading vega,
// resvg and pdfkit once is most of the cost of a small render.

import { parentPort } from 'node:worker_threads';
import { renderDashboard, renderReport } from '../render.js';
import type { RenderTask, RenderTaskResult } from './render-task.js';

async function run(task: RenderTask): Promise<RenderTaskResult> {
  const file =
    task.kind === 'dashboard' ? await renderDashboard(task.dashboard, task.format, task.options) : await renderReport(task.report, task.format, task.options);
  // a fresh copy that owns its memory, so it can be transferred
  return { ok: true, file: { ...file, bytes: new Uint8Array(file.bytes) } };
}

parentPort!.on('message', (message: { id: number; task: RenderTask }) => {
  run(message.task).then(
    (result) => parentPort!.postMessage({ id: message.id, result }, result.ok ? [result.file.bytes.buffer as ArrayBuffer] : []),
    (err: unknown) =>
      parentPort!.postMessage({ id: message.id, result: { ok: false, message: err instanceof Error ? err.message : String(err) } satisfies RenderTaskResult }),
  );
});
parentPort!.postMessage({ ready: true });
