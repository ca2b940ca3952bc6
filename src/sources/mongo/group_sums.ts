/**
 * MongoDB's own answer for an audit: `$group: {_id: "$<key>", total: {$sum: "$<value>"}}`,
 * read with read concern `majority` (only what cannot roll back), sums kept exact.
 *
 * @module
 */
import type { Collection } from "mongodb";
import { bsonType } from "../../util/describe.ts";

/** One `$group` row: the group's `_id` as MongoDB has it, and `$sum` as exact decimal text. */
export interface GroupSum {
  id: unknown;
  total: string;
}

/** What to group and sum, and optionally which keys to look at. */
export interface GroupSumQuery {
  /** Field grouped by, e.g. `customer_id`. */
  key: string;
  /** Field summed, e.g. `amount`. */
  value: string;
  /** Only documents whose key is one of these values (`$in`). */
  only?: readonly unknown[];
}

/** Runs the aggregation; one row per distinct key value. */
export async function groupSums(collection: Collection, query: GroupSumQuery): Promise<GroupSum[]> {
  const pipeline = [
    ...(query.only === undefined ? [] : [{ $match: { [query.key]: { $in: query.only } } }]),
    { $group: { _id: `$${query.key}`, total: { $sum: `$${query.value}` } } },
  ];
  const rows = await collection.aggregate(pipeline, {
    readConcern: { level: "majority" },
    allowDiskUse: true,
    promoteLongs: false,
    promoteValues: false,
  }).toArray();
  return rows.map((row) => ({ id: row._id, total: sumText(row.total) }));
}

/**
 * The exact decimal text of a `$sum` result: int32 and int64 as integers, a double or
 * Decimal128 as integer text when it is integral, else its own decimal text (a fraction
 * never equals an int64 total, which is what an audit needs to see).
 */
export function sumText(value: unknown): string {
  const type = bsonType(value);
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number" || type === "Int32" || type === "Double") {
    const n = Number((value as { valueOf(): number }).valueOf());
    return Number.isSafeInteger(n) ? BigInt(n).toString() : String(n);
  }
  const text = String(value);
  const integral = /^(-?)0*(\d+)(?:\.0*)?$/.exec(text);
  return integral ? BigInt(`${integral[1]}${integral[2]}`).toString() : text;
}
