/**
 * MongoDB's side of `--mode=audit` for the orders pipeline: `$group` by `customer_id`
 * summing `amount`, keyed the way bootstrap and live key customers, and the orders the
 * pipeline rejects (a likely reason for a difference), checked against bootstrap's
 * bad-records file.
 *
 * @module
 */
import type { Collection, Document } from "mongodb";
import { EJSON } from "bson";
import type { AuditReference, RejectedOrder } from "../runtimes/audit/run.ts";
import { groupSums } from "../sources/mongo/group_sums.ts";
import { customerIdValues } from "../pipeline/bson_values.ts";
import { readDocument } from "../pipeline/fields.ts";
import { orderFields } from "./orderstats.ts";
import { BadRecordError } from "../util/errors.ts";
import { describe } from "../util/describe.ts";

/** Orders of one customer looked at for rejected ones, at most. */
const SCANNED_FOR_REASONS = 1000;
/** Rejected orders listed per customer, at most. */
const LISTED_REASONS = 5;

/** The audit reference over an orders collection. */
export function orderReference(collection: Collection, badRecordsFile?: string): AuditReference {
  let recorded: Promise<Set<string>> | undefined;
  return {
    sums: (keys) =>
      groupSums(collection, {
        key: orderFields.key.name,
        value: orderFields.value.name,
        only: keys?.flatMap(customerIdValues),
      }),
    keyOf: (id) => orderFields.key.read(id, `$group _id ${describe(id)}`),
    describe,
    async rejectedOrders(key) {
      recorded ??= badRecordIds(badRecordsFile);
      const inFile = await recorded;
      const cursor = collection.find(
        {
          customer_id: { $in: customerIdValues(key) },
          amount: { $not: { $type: ["int", "long"] } },
        },
        { readConcern: { level: "majority" }, promoteValues: false, limit: SCANNED_FOR_REASONS },
      );
      const rejected: RejectedOrder[] = [];
      for await (const doc of cursor) {
        const where = `${collection.collectionName} _id=${describe(doc._id)}`;
        try {
          readDocument(orderFields, doc, where);
        } catch (error) {
          if (!(error instanceof BadRecordError)) throw error;
          rejected.push({
            id: describe(doc._id),
            reason: error.reason,
            inBadRecordsFile: inFile.has(idText(doc._id)),
          });
          if (rejected.length >= LISTED_REASONS) break;
        }
      }
      return rejected;
    },
  };
}

/** One `_id` as canonical extended JSON, the form the bad-records file keeps. */
function idText(id: unknown): string {
  return JSON.stringify(EJSON.serialize({ _id: id }, { relaxed: false })._id);
}

/** The `_id`s bootstrap's bad-records file lists (none when there is no file). */
async function badRecordIds(path: string | undefined): Promise<Set<string>> {
  const ids = new Set<string>();
  if (path === undefined) return ids;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return ids;
    throw error;
  }
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const { document } = JSON.parse(line) as { document?: Document };
    if (document?._id !== undefined) ids.add(JSON.stringify(document._id));
  }
  return ids;
}
