// Rendering in worker threads, with a time limit and cancellation: the event loop of the worker
// process stays free for its other jobs, and a stuck or runaway render is terminated. Threads are
// kept warm for a while between tasks (module loading dominates small renders).

import { Worker } from 'node:worker_threads';
import type { ReportRenderInput } from '../render.js';
import type { PictureFormat, PictureOptions, RenderDashboard, RenderedFile } from '../types.js';

/** One picture to render. */
export type RenderTask =
  | { kind: 'dashboard'; dashboard: RenderDashboard; format: PictureFormat; options?: PictureOptions }
  | { kind: 'report'; report: ReportRenderInput; format: PictureFormat; options?: PictureOptions };

/** What a worker posts back. */
export type RenderTaskResult = { ok: true; file: Omit<RenderedFile, 'bytes'> & { bytes: Uint8Array } } | { ok: false; message: string };

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
  /** Time limit in ms (default 60 s), thread start included; the thread is terminated when it is reached. */
  timeoutMs?: number;
  /** Aborting terminates the thread at once. */
  signal?: AbortSignal;
}

/** Options of a pool of render threads. */
export interface RenderPoolOptions {
  /** Threads at most (default 2); further tasks wait for a free one. */
  maxThreads?: number;
  /** An idle thread ends after this many ms (default 60 s). */
  idleMs?: number;
  /** Heap limit of each thread in MB (default 512). */
  maxHeapMb?: number;
}

interface PooledThread {
  worker: Worker;
  ready: Promise<void>;
  idleTimer?: NodeJS.Timeout;
}

/**
 * Render threads: at most `maxThreads`, reused between tasks, ended after `idleMs` idle, and
 * replaced when a task times out, is cancelled or crashes its thread. Idle threads do not keep the
 * process alive.
 */
export class RenderPool {
  private readonly idle: PooledThread[] = [];
  private busy = 0;
  private readonly waiting: Array<() => void> = [];
  private nextId = 1;

  constructor(private readonly options: RenderPoolOptions = {}) {}

  private spawn(): PooledThread {
    const worker = new Worker(new URL('./bootstrap.mjs', import.meta.url), {
      resourceLimits: { maxOldGenerationSizeMb: this.options.maxHeapMb ?? 512 },
      stdout: false,
      stderr: false,
    });
    const ready = new Promise<void>((resolve, reject) => {
      const onMessage = (m: { ready?: boolean }) => {
        if (m.ready) {
          worker.off('error', reject);
          worker.off('message', onMessage);
          resolve();
        }
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the render thread stopped (exit code ${code})`)));
    });
    ready.catch(() => {});
    const thread: PooledThread = { worker, ready };
    // a thread that dies while idle leaves the pool
    worker.once('exit', () => {
      const i = this.idle.indexOf(thread);
      if (i >= 0) this.idle.splice(i, 1);
    });
    return thread;
  }

  private async acquire(signal?: AbortSignal): Promise<PooledThread> {
    while (this.busy >= (this.options.maxThreads ?? 2)) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
      if (signal?.aborted) throw new RenderError('The export was cancelled', 'cancelled');
    }
    this.busy++;
    const thread = this.idle.pop() ?? this.spawn();
    clearTimeout(thread.idleTimer);
    thread.worker.ref();
    return thread;
  }

  private release(thread: PooledThread, reusable: boolean): void {
    this.busy--;
    if (reusable) {
      thread.worker.unref();
      thread.idleTimer = setTimeout(() => {
        const i = this.idle.indexOf(thread);
        if (i >= 0) this.idle.splice(i, 1);
        void thread.worker.terminate();
      }, this.options.idleMs ?? 60_000);
      thread.idleTimer.unref();
      this.idle.push(thread);
    } else void thread.worker.terminate();
    this.waiting.shift()?.();
  }

  /**
   * Renders a dashboard or report picture on a pool thread.
   * @throws RenderError with reason `timeout`, `cancelled` or `failed` (the message is for a person)
   */
  async render(task: RenderTask, options: WorkerRenderOptions = {}): Promise<RenderedFile> {
    if (options.signal?.aborted) throw new RenderError('The export was cancelled', 'cancelled');
    const timeoutMs = options.timeoutMs ?? 60_000;
    const thread = await this.acquire(options.signal);
    const id = this.nextId++;
    return new Promise<RenderedFile>((resolve, reject) => {
      let settled = false;
      const finish = (reusable: boolean, fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        thread.worker.off('message', onMessage);
        thread.worker.off('error', onError);
        thread.worker.off('exit', onExit);
        this.release(thread, reusable);
        fn();
      };
      const timer = setTimeout(
        () => finish(false, () => reject(new RenderError(`Rendering took longer than ${Math.round(timeoutMs / 1000)} s and was stopped`, 'timeout'))),
        timeoutMs,
      );
      const onAbort = () => finish(false, () => reject(new RenderError('The export was cancelled', 'cancelled')));
      const onMessage = (m: { id?: number; result?: RenderTaskResult }) => {
        if (m.id !== id || !m.result) return;
        const result = m.result;
        finish(true, () => {
          if (result.ok) resolve({ ...result.file, bytes: Buffer.from(result.file.bytes.buffer, result.file.bytes.byteOffset, result.file.bytes.byteLength) });
          else reject(new RenderError(`Rendering failed: ${result.message}`, 'failed'));
        });
      };
      const onError = (err: Error) => finish(false, () => reject(new RenderError(`Rendering failed: ${err.message}`, 'failed')));
      const onExit = (code: number) => finish(false, () => reject(new RenderError(`The render thread stopped (exit code ${code})`, 'failed')));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (options.signal?.aborted) onAbort();
      thread.worker.on('message', onMessage);
      thread.worker.once('error', onError);
      thread.worker.once('exit', onExit);
      thread.ready.then(
        () => {
          if (!settled) thread.worker.postMessage({ id, task });
        },
        (err: Error) => finish(false, () => reject(new RenderError(`Rendering failed: ${err.message}`, 'failed'))),
      );
    });
  }

  /** Ends every idle thread (busy ones end with their task). */
  async close(): Promise<void> {
    const threads = this.idle.splice(0);
    await Promise.all(
      threads.map((t) => {
        clearTimeout(t.idleTimer);
        return t.worker.terminate();
      }),
    );
  }
}

const defaultPool = new RenderPool();

/**
 * Renders a dashboard or report picture in a worker thread of the process-wide pool (2 threads,
 * kept warm for 60 s).
 * @throws RenderError with reason `timeout`, `cancelled` or `failed` (the message is for a person)
 */
export function renderInWorker(task: RenderTask, options: WorkerRenderOptions = {}): Promise<RenderedFile> {
  return defaultPool.render(task, options);
}
