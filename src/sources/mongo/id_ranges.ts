/**
 * Splitting a collection into `_id` ranges for a segmented bootstrap, and the query of one
 * range. A range is `[from, to)` in BSON sort order, across types: MongoDB's `$gte`/`$lt`
 * compare only within one type class ("type bracketing"), so a range whose ends are of
 * different classes is queried as `$gte from` within its class, `$type` for every class
 * between, and `$lt to` within its class. That also works on servers without `min()`/`max()`
 * cursor bounds (FerretDB ignores them).
 *
 * ```ts
 * import { rangeFilter } from "./id_ranges.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(rangeFilter(undefined, undefined), {});
 * assert.deepEqual(rangeFilter('{"$numberInt":"5"}', '{"$numberInt":"9"}').$or.length, 1);
 * ```
 *
 * @module
 */
import { BSON, type Collection, type Document } from "mongodb";

/** BSON type classes in sort order, each with the `$type` aliases it covers. */
const CLASSES: readonly (readonly string[])[] = [
  ["minKey"],
  ["null", "undefined"],
  ["number"],
  ["string", "symbol"],
  ["object"],
  ["array"],
  ["binData"],
  ["objectId"],
  ["bool"],
  ["date"],
  ["timestamp"],
  ["regex"],
  ["dbPointer", "javascript", "javascriptWithScope"],
  ["maxKey"],
];

const BSON_TYPE_CLASS: Record<string, string> = {
  Int32: "number",
  Double: "number",
  Long: "number",
  Decimal128: "number",
  BSONSymbol: "string",
  ObjectId: "objectId",
  ObjectID: "objectId",
  Binary: "binData",
  Timestamp: "timestamp",
  BSONRegExp: "regex",
  MinKey: "minKey",
  MaxKey: "maxKey",
  Code: "javascript",
  DBRef: "object",
};

/** The index in {@link CLASSES} of a value's type class. */
function classOf(value: unknown): number {
  const bsonType = (value as { _bsontype?: string } | null)?._bsontype;
  const name = bsonType !== undefined
    ? BSON_TYPE_CLASS[bsonType] ?? "object"
    : value === null || value === undefined
    ? "null"
    : typeof value === "number" || typeof value === "bigint"
    ? "number"
    : typeof value === "string"
    ? "string"
    : typeof value === "boolean"
    ? "bool"
    : value instanceof Date
    ? "date"
    : value instanceof RegExp
    ? "regex"
    : Array.isArray(value)
    ? "array"
    : "object";
  return classIndex(name);
}

function classIndex(alias: string): number {
  return CLASSES.findIndex((aliases) => aliases.includes(alias));
}

/** Classes a boundary may be of: those of valid order keys. */
const BOUNDARY_CLASSES = new Set(["number", "string", "objectId"].map(classIndex));

const encode = (value: unknown) => BSON.EJSON.stringify(value, { relaxed: false });
const decode = (text: string) => BSON.EJSON.parse(text, { relaxed: false });

/**
 * Up to `segments − 1` ascending `_id`s cutting the collection into ranges of about equal
 * size, encoded as canonical extended JSON: one pass over the `_id`s (index only on
 * MongoDB), stopping at the last cut. Fewer when the collection is small: the last
 * segments are then empty.
 */
export async function splitPoints(
  collection: Collection,
  segments: number,
  signal?: AbortSignal,
): Promise<string[]> {
  if (segments <= 1) return [];
  const count = await collection.estimatedDocumentCount();
  const step = count / segments;
  const cuts: string[] = [];
  const cursor = collection.find({}, {
    sort: { _id: 1 },
    projection: { _id: 1 },
    batchSize: 10_000,
    promoteValues: false,
  });
  try {
    let seen = 0;
    for await (const { _id } of cursor) {
      signal?.throwIfAborted();
      if (seen++ >= (cuts.length + 1) * step && BOUNDARY_CLASSES.has(classOf(_id))) {
        cuts.push(encode(_id));
        if (cuts.length === segments - 1) break;
      }
    }
  } finally {
    await cursor.close();
  }
  return cuts;
}

/**
 * Rare types some servers cannot store nor name in `$type` (FerretDB: "Unknown type name
 * alias"): {@link rangeFilter} leaves them out when told the server has none.
 */
const RARE_TYPES = new Set([
  "minKey",
  "maxKey",
  "undefined",
  "symbol",
  "dbPointer",
  "javascript",
  "javascriptWithScope",
]);

/** The server refused a `$type` alias: it has no such values, so they need no range. */
export function isUnknownTypeAlias(error: unknown): boolean {
  return error instanceof Error && /unknown type name alias|type code/i.test(error.message);
}

/**
 * The filter of the `_id`s in `[from, to)` (extended JSON; undefined = unbounded).
 * `rareTypes: false` leaves out the types of {@link RARE_TYPES}.
 */
export function rangeFilter(
  from: string | undefined,
  to: string | undefined,
  { rareTypes = true }: { rareTypes?: boolean } = {},
): Document {
  if (from === undefined && to === undefined) return {};
  const low = from === undefined ? undefined : decode(from);
  const high = to === undefined ? undefined : decode(to);
  const lowClass = low === undefined ? -1 : classOf(low);
  const highClass = high === undefined ? CLASSES.length : classOf(high);
  if (lowClass === highClass) return { $or: [{ _id: { $gte: low, $lt: high } }] };
  const between = CLASSES.slice(lowClass + 1, highClass).flat()
    .filter((alias) => rareTypes || !RARE_TYPES.has(alias));
  return {
    $or: [
      ...(low === undefined ? [] : [{ _id: { $gte: low } }]),
      ...(between.length === 0 ? [] : [{ _id: { $type: between } }]),
      ...(high === undefined ? [] : [{ _id: { $lt: high } }]),
    ],
  };
}
