/**
 * Bounded concurrency for async work, optionally exclusive per key.
 *
 * @module
 */

/**
 * Runs `fn` on every item with at most `concurrency` calls in flight. After a failure no
 * new call starts, and it rejects with the first failure once the calls in flight have
 * settled: nothing it started is still running when it returns.
 */
export function forEachConcurrently<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  return forEachExclusive(items, concurrency, () => [], fn);
}

/**
 * {@link forEachConcurrently}, where no two calls whose items share a key run at once. An
 * item waits until none of its keys is held; items whose keys are free go ahead of it.
 */
export async function forEachExclusive<T>(
  items: readonly T[],
  concurrency: number,
  keysOf: (item: T) => readonly string[],
  fn: (item: T) => Promise<void>,
): Promise<void> {
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer: got ${concurrency}`);
  }
  const keys = items.map(keysOf);
  const started = items.map(() => false);
  // Items before `first` have all started: without keys each start is O(1), however many items.
  let first = 0;
  const held = new Set<string>();
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  const startable = () => {
    for (let i = first; i < items.length; i++) {
      if (!started[i] && keys[i].every((key) => !held.has(key))) return i;
    }
    return -1;
  };
  while (running.size > 0 || (failure === undefined && first < items.length)) {
    while (failure === undefined && running.size < concurrency) {
      // With nothing running every key is free, so this never waits on nothing.
      const at = startable();
      if (at < 0) break;
      started[at] = true;
      while (first < items.length && started[first]) first++;
      const item = items[at];
      for (const key of keys[at]) held.add(key);
      const call: Promise<void> = new Promise<void>((resolve) => resolve(fn(item)))
        .catch((error) => void (failure ??= { error }))
        .finally(() => {
          running.delete(call);
          for (const key of keys[at]) held.delete(key);
        });
      running.add(call);
    }
    await Promise.race(running);
  }
  if (failure !== undefined) throw failure.error;
}
