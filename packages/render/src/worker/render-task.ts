// Rendering in a worker thread, with a time limit and cancellation: the event loop of the worker
// process stays free for its other jobs, and a stuck or runaway render is terminated.

import { Worker } from 'node:worker_threads';
import type { ReportRenderInput } from '../render.js';
import type { PictureFormat, PictureOptions, RenderDashboard, RenderedFile } from '../types.js';

/** One picture to render. */
export type RenderTask =
  | { kind: 'dashboard'; dashboard: RenderDashboard; format: PictureFormat; options?: PictureOptions }
  | { kind: 'report'; report: ReportRenderInput; format: PictureFormat; options?: PictureOptions };

/** What a worker posts back. */
export type RenderTaskResult =
  | { ok: true; file: Omit<RenderedFile, 'bytes'> & { bytes: Uint8Array } }
  | { ok: false; message: string };

/** Why a render did not produce a file. */
export class RenderError extends Error {
  constructor(
    message: string,
    /** `timeout`: over the time limit; `cancelled`: aborted; `failed`: the renderer threw or the thread died. */
    readonly reason: 'timeout' | 'cancelled' | 'failed',
  ) {
    super(message);
    this.name = 'RenderError';
  }
}

/** Options of `renderInWorker`. */
export interface WorkerRenderOptions {
  /** Time limit in ms (default 60 s); the thread is terminated when it is reached. */
  timeoutMs?: number;
  /** Aborting terminates the thread at once. */
  signal?: AbortSignal;
  /** Heap limit of the thread in MB (default 512). */
  maxHeapMb?: number;
}

/**
 * Renders a dashboard or report picture in a fresh worker thread.
 * @throws RenderError with reason `timeout`, `cancelled` or `failed` (the message is for a person)
 */
export function renderInWorker(task: RenderTask, options: WorkerRenderOptions = {}): Promise<RenderedFile> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise<RenderedFile>((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new RenderError('The export was cancelled', 'cancelled'));
      return;
    }
    const worker = new Worker(new URL('./bootstrap.mjs', import.meta.url), {
      workerData: task,
      resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb ?? 512 },
      stdout: false,
      stderr: false,
    });
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      fn();
      void worker.terminate();
    };
    const timer = setTimeout(() => finish(() => reject(new RenderError(`Rendering took longer than ${Math.round(timeoutMs / 1000)} s and was stopped`, 'timeout'))), timeoutMs);
    const onAbort = () => finish(() => reject(new RenderError('The export was cancelled', 'cancelled')));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (result: RenderTaskResult) => {
      finish(() => {
        if (result.ok) resolve({ ...result.file, bytes: Buffer.from(result.file.bytes.buffer, result.file.bytes.byteOffset, result.file.bytes.byteLength) });
        else reject(new RenderError(`Rendering failed: ${result.message}`, 'failed'));
      });
    });
    worker.once('error', (err) => finish(() => reject(new RenderError(`Rendering failed: ${err.message}`, 'failed'))));
    worker.once('exit', (code) => finish(() => reject(new RenderError(`The render thread stopped (exit code ${code})`, 'failed'))));
  });
}
