/**
 * Reads an async iterable ahead of its consumer, up to a bound, so a slow consumer and a
 * slow producer overlap instead of taking turns (the driver fetches its next batch only
 * when asked; the writers wait only when their queue is full).
 *
 * @module
 */

/** Yields what `source` yields, fetching up to `limit` items ahead. */
export async function* readAhead<T>(source: AsyncIterable<T>, limit: number): AsyncGenerator<T> {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new RangeError(`Cannot read ahead: limit must be a positive integer: got ${limit}`);
  }
  const iterator = source[Symbol.asyncIterator]();
  const buffer: T[] = [];
  let done = false;
  let failure: { error: unknown } | undefined;
  let wakeConsumer: (() => void) | undefined;
  let wakeProducer: (() => void) | undefined;
  const wake = () => {
    wakeConsumer?.();
    wakeConsumer = undefined;
  };
  let stopped = false;
  const pump = (async () => {
    try {
      while (!stopped) {
        if (buffer.length >= limit) {
          await new Promise<void>((resolve) => wakeProducer = resolve);
          continue;
        }
        const next = await iterator.next();
        if (next.done) break;
        buffer.push(next.value);
        wake();
      }
    } catch (error) {
      failure = { error };
    } finally {
      done = true;
      wake();
    }
  })();
  try {
    while (true) {
      if (buffer.length > 0) {
        yield buffer.shift()!;
        wakeProducer?.();
        wakeProducer = undefined;
        continue;
      }
      if (failure) throw failure.error;
      if (done) return;
      await new Promise<void>((resolve) => wakeConsumer = resolve);
    }
  } finally {
    stopped = true;
    wakeProducer?.();
    await pump;
    await iterator.return?.();
  }
}
