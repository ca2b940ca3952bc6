/**
 * Bounded concurrency for independent async work.
 *
 * @module
 */

/**
 * Runs `fn` on every item with at most `concurrency` calls in flight. After a failure no
 * new call starts, and it rejects with the first failure once the calls in flight have
 * settled: nothing it started is still running when it returns.
 */
export async function forEachConcurrently<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      try {
        await fn(items[next++]);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
}
