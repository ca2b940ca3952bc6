/**
 * Whether DynamoDB answers, as the requests a client makes see it: a store that refuses
 * connections, times out or answers 5xx cannot take writes, and a frozen one may not answer
 * at all (requests just hang until their timeout). Live mode's `/readyz` reports this.
 *
 * @module
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { busyReason, isTransientDynamoError } from "./retriable.ts";
import { isThrottle } from "./client.ts";

/** A request pending this long counts as DynamoDB not answering (healthy ones take ms). */
export const STALLED_MS = 5_000;

/** True for failures that say DynamoDB is unreachable or failing, not busy or refusing. */
function isOutage(error: unknown): boolean {
  return isTransientDynamoError(error) && !isThrottle(error) && busyReason(error) === undefined;
}

/** Follows every request of one client (each command, the SDK's own retries included). */
export class RequestHealth {
  /** Start times of the requests in flight. */
  readonly #pending = new Set<number>();
  /** Whether the last request that finished failed for an outage. */
  #lastFailed = false;
  readonly #now: () => number;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** Follows `client`'s requests from now on. */
  watch(client: DynamoDBClient): void {
    client.middlewareStack.add(
      (next) => (args) => this.follow(() => next(args)),
      { step: "initialize", name: "orderstatsRequestHealth" },
    );
  }

  /** Runs one request, noting when it started and how it ended. */
  async follow<T>(request: () => Promise<T>): Promise<T> {
    // Distinct keys for requests started in the same millisecond.
    let started = this.#now();
    while (this.#pending.has(started)) started += 1e-6;
    this.#pending.add(started);
    try {
      const result = await request();
      this.#lastFailed = false;
      return result;
    } catch (error) {
      if (isOutage(error)) this.#lastFailed = true;
      else if (!(error instanceof Error && error.name === "AbortError")) this.#lastFailed = false;
      throw error;
    } finally {
      this.#pending.delete(started);
    }
  }

  /**
   * False while the last finished request failed for an outage, or a request has been
   * pending longer than {@link STALLED_MS}; true again after a request succeeds.
   */
  answering(): boolean {
    if (this.#lastFailed) return false;
    const now = this.#now();
    for (const started of this.#pending) if (now - started > STALLED_MS) return false;
    return true;
  }
}
