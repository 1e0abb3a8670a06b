/**
 * Iterates `source` while keeping up to `depth` items fetched ahead, so the next database read or
 * decompression overlaps with sending the current item. Memory: at most `depth + 1` items.
 * Closing early (client gone) closes `source` once the reads in flight have settled.
 */
export async function* readAhead<T>(source: AsyncIterable<T>, depth: number): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  const pending: Array<Promise<IteratorResult<T>>> = [];
  let exhausted = false;
  const fill = () => {
    while (!exhausted && pending.length < depth + 1) {
      const next = it.next();
      // a failed read surfaces when it is awaited below; this only silences "unhandled" warnings
      next.catch(() => {});
      pending.push(next);
    }
  };
  let finished = false;
  try {
    for (;;) {
      fill();
      const r = await pending.shift()!;
      if (r.done) {
        exhausted = true;
        finished = true;
        return;
      }
      yield r.value;
    }
  } finally {
    if (!finished) {
      exhausted = true;
      await Promise.allSettled(pending);
      await it.return?.();
    }
  }
}
