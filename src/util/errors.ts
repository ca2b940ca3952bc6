/**
 * The few error classes callers act on. Each carries a stable `code` and, where the
 * failure is about one input, names that input.
 *
 * @module
 */

/** A stable machine-readable reason for an {@link OrderstatsError}. */
export type ErrorCode =
  | "BAD_CONFIG"
  | "BAD_RECORD"
  | "NO_CHANGE_STREAMS"
  | "HANDOFF_MISSING"
  | "STATE_CONFLICT"
  | "DRIFT"
  | "SERVICE_FAILED"
  | "UNAVAILABLE";

/** Base class: every error orderstats raises on purpose. */
export class OrderstatsError extends Error {
  /** Why it failed, for code that branches on it. */
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A flag or environment variable has a value orderstats cannot use. */
export class ConfigError extends OrderstatsError {
  constructor(message: string, options?: ErrorOptions) {
    super("BAD_CONFIG", message, options);
  }
}

/** A service cannot be reached, fails its TLS handshake or refuses our credentials. */
export class UnavailableError extends OrderstatsError {
  constructor(message: string, options?: ErrorOptions) {
    super("UNAVAILABLE", message, options);
  }
}

/** One input record (document or message) cannot be turned into an order change. */
export class BadRecordError extends OrderstatsError {
  /** Where the record came from, e.g. `orders _id=42` or `orders.cdc[0]@17`. */
  readonly where: string;
  /** What is wrong with it, without the `where`. */
  readonly reason: string;
  constructor(where: string, reason: string, options?: ErrorOptions) {
    super("BAD_RECORD", `${where}: ${reason}`, options);
    this.where = where;
    this.reason = reason;
  }
}

/** A service answered in a way orderstats cannot go on from (retries, if any, did not cure it). */
export class ServiceError extends OrderstatsError {
  constructor(message: string, options?: ErrorOptions) {
    super("SERVICE_FAILED", message, options);
  }
}
