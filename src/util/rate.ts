/**
 * Spacing work out to a rate, so a scheduled job (the audit) bounds the load it puts on
 * a production table.
 *
 * @module
 */
import { sleep } from "./retry.ts";

/** Lets at most `perSecond` units of work start per second, evenly spaced. */
export class RateLimiter {
  #next = 0;

  constructor(readonly perSecond: number) {
    if (!(perSecond > 0)) {
      throw new RangeError(`Cannot limit a rate: perSecond must be > 0: got ${perSecond}`);
    }
  }

  /** Waits until `n` more units may start. */
  async take(n: number, signal?: AbortSignal): Promise<void> {
    const now = performance.now();
    const start = Math.max(now, this.#next);
    this.#next = start + (n * 1000) / this.perSecond;
    if (start > now) await sleep(start - now, signal);
  }
}
