/**
 * The order record orderstats aggregates, and the one place that turns a MongoDB
 * document (BSON values or extended JSON) into it. Money is `bigint` end to end.
 *
 * @module
 */
import { BadRecordError } from "../util/errors.ts";
import { bsonType, describe } from "../util/describe.ts";

/** One order as the pipeline sees it. */
export interface Order {
  /** Canonical `_id` (see {@link orderKey}). */
  orderKey: string;
  customer_id: string;
  /** Amount in the collection's minor unit, exact. */
  amount: bigint;
}

interface BsonTagged {
  _bsontype: string;
  toString(radix?: number): string;
  toHexString?(): string;
}

const INTEGER_TEXT = /^-?\d+$/;
const DECIMAL_INTEGRAL = /^(-?\d+)(?:\.0*)?$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Reads a MongoDB numeric value as an exact integer amount.
 *
 * Accepts int32, int64 (`Long`), integral doubles, integral `Decimal128`, plain JS
 * safe integers and `bigint`. Anything else (fractions, NaN, strings, missing) throws a
 * {@link BadRecordError} naming `where`.
 */
export function parseAmount(value: unknown, where: string): bigint {
  let result: bigint | undefined;
  const type = bsonType(value);
  if (typeof value === "bigint") result = value;
  else if (typeof value === "number") {
    if (Number.isSafeInteger(value)) result = BigInt(value);
  } else if (type === "Int32" || type === "Double") {
    const n = Number((value as { valueOf(): number }).valueOf());
    if (Number.isSafeInteger(n)) result = BigInt(n);
  } else if (type === "Long") {
    const text = (value as BsonTagged).toString(10);
    if (INTEGER_TEXT.test(text)) result = BigInt(text);
  } else if (type === "Decimal128") {
    const match = DECIMAL_INTEGRAL.exec((value as BsonTagged).toString());
    if (match) result = BigInt(match[1]);
  }
  if (result === undefined) {
    throw new BadRecordError(where, `amount ${describe(value)} is not an exact integer`);
  }
  if (result < INT64_MIN || result > INT64_MAX) {
    throw new BadRecordError(where, `amount ${result} is outside the int64 range`);
  }
  return result;
}

/**
 * Reads a customer id: a non-empty string, or an integer (kept as its decimal text so
 * `42`, `Int32(42)` and `Long(42)` are one customer).
 */
export function parseCustomerId(value: unknown, where: string): string {
  if (typeof value === "string" && value.length > 0) return value;
  const type = bsonType(value);
  if (
    typeof value === "number" || typeof value === "bigint" || type === "Int32" || type === "Long"
  ) {
    const text = String(value);
    if (INTEGER_TEXT.test(text)) return text;
  }
  throw new BadRecordError(
    where,
    `customer_id ${describe(value)} is not a non-empty string or integer`,
  );
}

/**
 * The canonical text of a document `_id`, the ledger's key for one order. MongoDB treats
 * numerically equal `_id`s of different numeric types as the same key, so numbers share
 * one form. ObjectIds → `o:<hex>`, strings → `s:<text>`, integers → `n:<decimal>`.
 */
export function orderKey(id: unknown, where: string): string {
  if (typeof id === "string") return `s:${id}`;
  const type = bsonType(id);
  if (type === "ObjectId" || type === "ObjectID") {
    return `o:${(id as BsonTagged).toHexString!()}`;
  }
  if (id !== undefined && id !== null) {
    try {
      return `n:${parseAmount(id, where)}`;
    } catch {
      // Not an integer: fall through to the error that names the _id itself.
    }
  }
  throw new BadRecordError(where, `_id ${describe(id)} is not an ObjectId, string or integer`);
}

/** Turns a full order document into an {@link Order}, or throws {@link BadRecordError}. */
export function decodeOrder(doc: Record<string, unknown>, where: string): Order {
  return {
    orderKey: orderKey(doc._id, where),
    customer_id: parseCustomerId(doc.customer_id, where),
    amount: parseAmount(doc.amount, where),
  };
}
