/**
 * Decodes bare documents (`{_id, customer_id, amount}` for orders) as JSON or extended JSON
 * (the format of the earlier example producer). Numbers are read exactly: an int64 beyond 2^53
 * stays a `Long`, a fraction stays a `Double` and the pipeline's value field rejects it later.
 *
 * @module
 */
import { orderKey } from "../../pipeline/bson_values.ts";
import { BadRecordError } from "../../util/errors.ts";
import { fromExtendedJson } from "./extended_json.ts";
import type { CdcDecoded } from "./types.ts";

/** Whether a (schema-unwrapped) value looks like a bare document: an object with `_id`. */
export function isRawDocument(value: Record<string, unknown>): boolean {
  return "_id" in value;
}

/**
 * One bare document to an `upsert` with an empty position (the format carries none).
 * Reading its key and value is left to the pipeline's fields, like for every upsert.
 */
export function decodeRaw(value: Record<string, unknown>, where: string): CdcDecoded {
  if (!isRawDocument(value)) {
    throw new BadRecordError(where, "not_a_change", "order document has no _id");
  }
  const document = fromExtendedJson(value, "value", where) as Record<string, unknown>;
  return { kind: "upsert", orderKey: orderKey(document._id, where), document, position: {} };
}
