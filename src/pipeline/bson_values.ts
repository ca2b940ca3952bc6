/**
 * The one place that canonicalises MongoDB values (BSON from the driver, or extended JSON
 * decoded by the CDC sources): document `_id`s as ledger keys, exact int64 integers, and
 * grouping keys. Every source and the app read values through these, so bootstrap and live
 * agree on what a value is. Money is `bigint` end to end.
 *
 * @module
 */
import { Decimal128, Long } from "mongodb";
import { BadRecordError } from "../util/errors.ts";
import { bsonType, describe } from "../util/describe.ts";

interface BsonTagged {
  _bsontype: string;
  toString(radix?: number): string;
  toHexString?(): string;
}

/** Decimal integer text, as JSON and `Long.toString()` write it. */
export const INTEGER_TEXT = /^-?\d+$/;
/** Decimal128 text: digits, an optional fraction and an optional exponent (`1.5E+3`). */
const DECIMAL_TEXT = /^(-?)(\d+)(?:\.(\d*))?(?:E([+-]?\d+))?$/i;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** Past this many digits an integer is far outside any range orderstats accepts. */
const MAX_EXPONENT = 40;

/** Whether `value` fits a signed 64-bit integer. */
export function isInt64(value: bigint): boolean {
  return value >= INT64_MIN && value <= INT64_MAX;
}

/**
 * The exact integer a numeric value holds, or undefined when it holds none (fractions,
 * NaN, non-numbers). int32, int64 (`Long`), `Decimal128` in any notation, JS numbers and
 * `bigint`; a double only up to 2^53 - 1, past which it may be the rounding of another
 * integer.
 */
function exactInteger(value: unknown): bigint | undefined {
  if (typeof value === "bigint") return value;
  const type = bsonType(value);
  if (typeof value === "number" || type === "Int32" || type === "Double") {
    const n = Number((value as { valueOf(): number }).valueOf());
    return Number.isSafeInteger(n) ? BigInt(n) : undefined;
  }
  if (type === "Long") {
    const text = (value as BsonTagged).toString(10);
    return INTEGER_TEXT.test(text) ? BigInt(text) : undefined;
  }
  if (type === "Decimal128") return decimalInteger((value as BsonTagged).toString());
  return undefined;
}

/** The integer a decimal text denotes exactly (`1E+3` → 1000, `100E-2` → 1), if any. */
function decimalInteger(text: string): bigint | undefined {
  const match = DECIMAL_TEXT.exec(text);
  if (!match) return undefined;
  const [, sign, whole, fraction = "", exponent = "0"] = match;
  const digits = BigInt(whole + fraction) * (sign === "-" ? -1n : 1n);
  const scale = Number(exponent) - fraction.length;
  if (digits === 0n) return 0n;
  if (scale >= 0) return digits * 10n ** BigInt(Math.min(scale, MAX_EXPONENT));
  const divisor = 10n ** BigInt(-scale);
  return digits % divisor === 0n ? digits / divisor : undefined;
}

/**
 * Reads a MongoDB numeric value of `field` as an exact int64.
 *
 * Accepts int32, int64 (`Long`), doubles that are integers up to 2^53 - 1, integral
 * `Decimal128` (also in exponent form), plain JS safe integers and `bigint`, within int64.
 * Anything else (fractions, NaN, strings, missing) throws a {@link BadRecordError} naming
 * `where`: `$sum` ignores strings, and a double past 2^53 is not known exactly.
 */
export function readInt64(value: unknown, field: string, where: string): bigint {
  const result = exactInteger(value);
  if (result === undefined) {
    throw new BadRecordError(
      where,
      "bad_value_field",
      `${field} ${describe(value)} is not an exact integer`,
    );
  }
  if (!isInt64(result)) {
    throw new BadRecordError(
      where,
      "bad_value_field",
      `${field} ${result} is outside the int64 range`,
    );
  }
  return result;
}

/**
 * Reads a grouping key of `field` (a customer id) the way `$group` groups: a number of any
 * type is one key (`42`, `Long(42)`, `42.0` → `n:42`), a string another (`"42"` → `42`). A
 * string that starts like a typed key is escaped (`"n:42"` → `s:n:42`), so no string meets a
 * number. Empty strings, fractions and other types are refused.
 */
export function readKeyText(value: unknown, field: string, where: string): string {
  if (typeof value === "string" && value.length > 0) {
    return TYPED_KEY.test(value) ? `s:${value}` : value;
  }
  const integer = exactInteger(value);
  if (integer !== undefined) return `n:${integer}`;
  throw new BadRecordError(
    where,
    "bad_key_field",
    `${field} ${describe(value)} is not a non-empty string or integer`,
  );
}

const TYPED_KEY = /^[ns]:/;

/**
 * The `customer_id` a total's key stands for, as JSON text: `n:42` → `42`, `s:n:42` →
 * `"n:42"`, `c42` → `"c42"` (for `--mode=totals`; integers keep every digit).
 */
export function customerIdJson(key: string): string {
  if (key.startsWith("n:")) return key.slice(2);
  return JSON.stringify(key.startsWith("s:") ? key.slice(2) : key);
}

/**
 * The `customer_id` values {@link readKeyText} turns into `key`, to query MongoDB by
 * key (`$in`): `c42` → `"c42"`, `s:n:42` → `"n:42"`, `n:42` → `Long(42)`, which matches
 * every numeric BSON type equal to it. A key no customer_id has matches nothing.
 */
export function customerIdValues(key: string): unknown[] {
  if (key.startsWith("s:")) return [key.slice(2)];
  if (!key.startsWith("n:")) return [key];
  if (!INTEGER_TEXT.test(key.slice(2))) return [];
  const n = BigInt(key.slice(2));
  return [n >= INT64_MIN && n <= INT64_MAX ? Long.fromBigInt(n) : Decimal128.fromString(`${n}`)];
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
  const integer = exactInteger(id);
  if (integer !== undefined) return `n:${integer}`;
  throw new BadRecordError(
    where,
    "bad_id",
    `_id ${describe(id)} is not an ObjectId, string or integer`,
  );
}
