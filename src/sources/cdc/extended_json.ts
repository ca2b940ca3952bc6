/**
 * Lossless JSON and MongoDB extended JSON parsing for CDC messages.
 *
 * `JSON.parse` rounds integers beyond 2^53, so an int64 amount written as a plain JSON number
 * (relaxed extended JSON, Debezium's `updatedFields`, flattened records) would silently change.
 * {@link parseJson} reads each number's source text instead: integers that do not fit a double
 * exactly become `{$numberLong}` (or a typed double when outside int64, which amount
 * validation then rejects), and other numbers past 2^53 (`1.2E18`) stay typed doubles, so
 * nothing is rounded without a trace.
 *
 * @module
 */
import { EJSON } from "bson";
import { BadRecordError, type BadRecordKind } from "../../util/errors.ts";
import { INTEGER_TEXT, isInt64 } from "../../pipeline/bson_values.ts";

/** JSON.parse's reviver context (ES2025 "JSON.parse source text access"). */
interface ReviverContext {
  source?: string;
}

function losslessReviver(this: unknown, _key: string, value: unknown, context?: ReviverContext) {
  if (typeof value === "number") {
    const source = context?.source;
    if (source === undefined || !Number.isInteger(value) || Number.isSafeInteger(value)) {
      return value;
    }
    if (INTEGER_TEXT.test(source)) {
      return isInt64(BigInt(source)) ? { $numberLong: source } : { $numberDouble: source };
    }
    // A fraction or exponent literal is a double: past 2^53 it stays one (as bootstrap
    // reads a stored double), rather than becoming a Long of its rounded value.
    return { $numberDouble: source };
  }
  if (isPlainObject(value) && typeof value.$numberLong === "string") {
    const text = value.$numberLong;
    // bson's EJSON wraps out-of-range $numberLong text silently: refuse it here.
    if (!INTEGER_TEXT.test(text) || !isInt64(BigInt(text))) {
      throw new RangeError(`$numberLong "${text}" is not a 64-bit integer`);
    }
  }
  return value;
}

/** Whether `value` is a JSON object (not null, not an array). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Decodes `bytes` as UTF-8 text, or throws {@link BadRecordError} naming `what`.
 */
export function utf8Text(bytes: Uint8Array, what: string, where: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new BadRecordError(where, "not_utf8", `${what} is not UTF-8 text`, { cause });
  }
}

/**
 * Parses JSON without losing integer precision (see the module doc). Throws
 * {@link BadRecordError} naming `what` when `text` is not JSON (counted as `kind`), or holds
 * a `$numberLong` that is no int64 (`bad_extended_json`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseJson } from "./extended_json.ts";
 * assert.deepEqual(parseJson('{"a": 9223372036854775807}', "value", "t[0]@1"), {
 *   a: { $numberLong: "9223372036854775807" },
 * });
 * ```
 */
export function parseJson(
  text: string,
  what: string,
  where: string,
  kind: BadRecordKind = "not_json",
): unknown {
  try {
    return JSON.parse(text, losslessReviver);
  } catch (cause) {
    const [why, reason] = cause instanceof RangeError
      ? ["bad_extended_json" as const, cause.message]
      : [kind, "is not valid JSON"];
    throw new BadRecordError(where, why, `${what} ${reason}: ${preview(text)}`, { cause });
  }
}

/**
 * Turns parsed extended JSON (any mode: canonical, relaxed or legacy strict) into BSON values:
 * `Int32`, `Long`, `Double`, `Decimal128`, `ObjectId`… (`EJSON.deserialize` with
 * `relaxed: false`, so plain integers keep an integer type).
 */
export function fromExtendedJson(value: unknown, what: string, where: string): unknown {
  try {
    return EJSON.deserialize(value as Record<string, unknown>, { relaxed: false });
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    throw new BadRecordError(
      where,
      "bad_extended_json",
      `${what} is not valid extended JSON: ${message}`,
      { cause },
    );
  }
}

/**
 * {@link parseJson} then {@link fromExtendedJson}: extended JSON text to BSON values, exactly.
 * Text that is not JSON counts as `bad_extended_json` here: it is a string inside a message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseExtendedJson } from "./extended_json.ts";
 * const doc = parseExtendedJson('{"amount": {"$numberLong": "9223372036854775807"}}', "after", "t[0]@1");
 * assert.equal(String((doc as { amount: unknown }).amount), "9223372036854775807");
 * ```
 */
export function parseExtendedJson(text: string, what: string, where: string): unknown {
  return fromExtendedJson(parseJson(text, what, where, "bad_extended_json"), what, where);
}

/**
 * The payload of a Kafka Connect JsonConverter message: `{schema, payload}` with schemas
 * enabled, the value itself without.
 */
export function unwrapConnectJson(value: unknown): unknown {
  if (
    isPlainObject(value) && "payload" in value && "schema" in value &&
    Object.keys(value).length === 2
  ) {
    return value.payload;
  }
  return value;
}

function preview(text: string): string {
  return text.length > 60 ? `${JSON.stringify(text.slice(0, 57))}...` : JSON.stringify(text);
}
