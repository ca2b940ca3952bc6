/** Polling helpers: sleeping, port checks and waiting for a condition with a deadline. @module */
import { HOST } from "../config.ts";

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** True when something accepts TCP connections on `HOST:port`. */
export async function isPortOpen(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: HOST, port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

/** Options of {@linkcode waitFor}. */
export interface WaitForOptions {
  /** Give up after this long. */
  timeoutMs: number;
  /** Pause between attempts. @default {250} */
  intervalMs?: number;
}

/**
 * Calls `attempt` until it returns without throwing, or throws `onTimeout(lastError)` once
 * `timeoutMs` has passed. `attempt` may throw {@linkcode GiveUp} to stop at once.
 */
export async function waitFor<T>(
  attempt: () => Promise<T>,
  options: WaitForOptions,
  onTimeout: (lastError: unknown) => Error,
): Promise<T> {
  const { timeoutMs, intervalMs = 250 } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (true) {
    try {
      return await attempt();
    } catch (error) {
      if (error instanceof GiveUp) throw error;
      lastError = error;
    }
    if (Date.now() >= deadline) throw onTimeout(lastError);
    await delay(intervalMs);
  }
}

/** Thrown by a {@linkcode waitFor} attempt to stop waiting at once. */
export class GiveUp extends Error {
  override name = "GiveUp";
}

/** One line describing an error, for messages. */
export function describe(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return error.errors.map(describe).join("; ");
  }
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Waits until nothing listens on any of `ports`. */
export function waitPortsFree(ports: number[], timeoutMs: number): Promise<void> {
  return waitFor(
    async () => {
      for (const port of ports) {
        if (await isPortOpen(port)) throw new Error(`port ${port} still in use`);
      }
    },
    { timeoutMs },
    (last) => new Error(`ports not freed within ${timeoutMs / 1000}s: ${describe(last)}`),
  );
}
