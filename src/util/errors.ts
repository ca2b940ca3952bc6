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

/**
 * Why a record is bad, as a stable word for metric labels and dead-letter headers (the
 * {@link BadRecordError.reason} says it in full). Listed in docs/operations.md.
 */
export const BAD_RECORD_KINDS = [
  /** Key plus value longer than `--max-record-bytes`; not parsed. */
  "too_large",
  /** Key or value bytes that are not UTF-8. */
  "not_utf8",
  /** Key or value text that is not JSON. */
  "not_json",
  /** JSON that is no change: not an object, or neither an envelope nor a document. */
  "not_a_change",
  /** A Debezium `op` (or a flattened `__op`/`__deleted`) orderstats does not know. */
  "unknown_op",
  /** A Debezium envelope with a malformed part: `source`, `after`, `updateDescription`. */
  "bad_envelope",
  /** Extended JSON that does not decode (`after` text, `$numberLong` beyond int64, …). */
  "bad_extended_json",
  /** A message key missing where it is needed, or not a Debezium MongoDB key. */
  "bad_message_key",
  /** The Debezium key names another order than the value's `_id`. */
  "key_mismatch",
  /** An `_id` that is not an ObjectId, string or integer. */
  "bad_id",
  /** The pipeline's key field (orders: `customer_id`) missing or of a type it cannot group by. */
  "bad_key_field",
  /** The pipeline's value field (orders: `amount`) missing, fractional, not a number, beyond int64. */
  "bad_value_field",
  /** Both the key and the value field. */
  "bad_fields",
  /** A partial update of an order whose current state is unknown. */
  "unknown_state",
] as const;

/** One of {@link BAD_RECORD_KINDS}. */
export type BadRecordKind = (typeof BAD_RECORD_KINDS)[number];

/** One input record (document or message) cannot be turned into an order change. */
export class BadRecordError extends OrderstatsError {
  /** Where the record came from, e.g. `orders _id=42` or `orders.cdc[0]@17`. */
  readonly where: string;
  /** What kind of bad it is, for counting. */
  readonly kind: BadRecordKind;
  /** What is wrong with it, without the `where`. */
  readonly reason: string;
  constructor(where: string, kind: BadRecordKind, reason: string, options?: ErrorOptions) {
    super("BAD_RECORD", `${where}: ${reason}`, options);
    this.where = where;
    this.kind = kind;
    this.reason = reason;
  }
}

/** A service answered in a way orderstats cannot go on from (retries, if any, did not cure it). */
export class ServiceError extends OrderstatsError {
  constructor(message: string, options?: ErrorOptions) {
    super("SERVICE_FAILED", message, options);
  }
}
