/**
 * Which consumer failures pass with time on the Kafka side: KafkaJS marks the errors it
 * would retry itself (a broker that refuses connections or restarts, a leader or group
 * coordinator that moves, a request that times out) as `retriable`, and wraps them when its
 * own retries run out. A broker outage longer than those retries must not end the worker.
 *
 * @module
 */

/** The innermost cause of `error`. */
function rootCause(error: unknown): unknown {
  let cause = error;
  while (cause instanceof Error && cause.cause !== undefined) cause = cause.cause;
  return cause;
}

/**
 * True when the innermost cause of `error` is a KafkaJS error that KafkaJS itself calls
 * retriable; false for everything else (bad credentials, unknown topics, our own errors).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * const refused = Object.assign(new Error("connect ECONNREFUSED"), {
 *   name: "KafkaJSConnectionError",
 *   retriable: true,
 * });
 * const gaveUp = new Error("gave up", { cause: refused });
 * equal(isTransientKafkaError(gaveUp), true);
 * equal(isTransientKafkaError(new Error("other")), false);
 * ```
 */
export function isTransientKafkaError(error: unknown): boolean {
  const cause = rootCause(error);
  return cause instanceof Error && cause.name.startsWith("KafkaJS") &&
    (cause as { retriable?: unknown }).retriable === true;
}
