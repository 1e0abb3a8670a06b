// Runs inside a worker thread: one render task from `workerData`, the file posted back.

import { parentPort, workerData } from 'node:worker_threads';
import { renderDashboard, renderReport } from '../render.js';
import type { RenderTask, RenderTaskResult } from './render-task.js';

async function run(task: RenderTask): Promise<RenderTaskResult> {
  const file = task.kind === 'dashboard'
    ? await renderDashboard(task.dashboard, task.format, task.options)
    : await renderReport(task.report, task.format, task.options);
  return { ok: true, file: { ...file, bytes: new Uint8Array(file.bytes.buffer, file.bytes.byteOffset, file.bytes.byteLength) } };
}

run(workerData as RenderTask).then(
  (result) => {
    const bytes = result.ok ? result.file.bytes : undefined;
    // copy into a fresh buffer so it can be transferred without touching a pooled allocation
    const owned = bytes ? new Uint8Array(bytes) : undefined;
    parentPort!.postMessage(result.ok ? { ...result, file: { ...result.file, bytes: owned } } : result, owned ? [owned.buffer] : []);
  },
  (err: unknown) => parentPort!.postMessage({ ok: false, message: err instanceof Error ? err.message : String(err) } satisfies RenderTaskResult),
);
