/**
 * Retry with exponential backoff and full jitter, for calls whose failures are
 * classified as transient by one function per service.
 *
 * @module
 */
import { Series } from "./metrics.ts";

/** Every retry this process makes (one process, one count), for `/metrics`. */
export const retries = new Series(
  "orderstats_retries_total",
  "Calls retried after a transient failure (DynamoDB, consumer restarts)",
  "counter",
);

/** Options for {@link retry}. */
export interface RetryOptions {
  /** Attempts in total, including the first. @default 8 */
  maxAttempts?: number;
  /** First backoff ceiling in ms. @default 50 */
  baseMs?: number;
  /** Largest backoff ceiling in ms. @default 5000 */
  maxMs?: number;
  /** Decides whether an error is worth another attempt. */
  isRetriable: (error: unknown) => boolean;
  signal?: AbortSignal;
}

/** A random delay in `[0, min(maxMs, baseMs * 2^attempt))`. */
export function backoffMs(attempt: number, baseMs = 50, maxMs = 5000): number {
  return Math.random() * Math.min(maxMs, baseMs * 2 ** attempt);
}

/** Resolves after `ms`, or rejects with the signal's reason when aborted first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted();
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Calls `fn` until it succeeds, a non-retriable error occurs, or attempts run out. */
export async function retry<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const { maxAttempts = 8, baseMs = 50, maxMs = 5000, isRetriable, signal } = options;
  for (let attempt = 0;; attempt++) {
    signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt + 1 >= maxAttempts || !isRetriable(error)) throw error;
      retries.inc();
      await sleep(backoffMs(attempt, baseMs, maxMs), signal);
    }
  }
}
