/**
 * The document fields a key/value pipeline reads. The app declares them once (name and how
 * to read the value exactly); bootstrap reads documents through them, live reads full
 * documents and partial updates through them, and the CDC decoders learn from their names
 * which updates matter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { field, readDocument } from "./fields.ts";
 * import { readInt64, readKeyText } from "./bson_values.ts";
 * const fields = { key: field("customer_id", readKeyText), value: field("amount", readInt64) };
 * assert.deepEqual(readDocument(fields, { _id: 7, customer_id: "c1", amount: 12 }, "t"), {
 *   id: "n:7",
 *   key: "c1",
 *   value: 12n,
 * });
 * ```
 *
 * @module
 */
import { orderKey } from "./bson_values.ts";

/** One top-level document field, and how to read its value exactly. */
export interface Field<V> {
  readonly name: string;
  /** Reads the field's value; throws `BadRecordError` naming `where`. */
  read(value: unknown, where: string): V;
}

/** Declares a field read by `read(value, name, where)` (e.g. `readInt64`). */
export function field<V>(
  name: string,
  read: (value: unknown, field: string, where: string) => V,
): Field<V> {
  return Object.freeze({ name, read: (value: unknown, where: string) => read(value, name, where) });
}

/** The two fields of a key/value pipeline: the grouping key and the value. */
export interface RecordFields<V> {
  readonly key: Field<string>;
  readonly value: Field<V>;
}

/** The names of a pipeline's fields: all a CDC decoder needs to know about the pipeline. */
export interface FieldNames {
  key: string;
  value: string;
}

/** The names of `fields`. */
export function fieldNames(fields: RecordFields<unknown>): FieldNames {
  return { key: fields.key.name, value: fields.value.name };
}

/** A document as the pipeline sees it: its canonical `_id`, its key and its value. */
export interface DocumentRecord<V> {
  id: string;
  key: string;
  value: V;
}

/** Reads a full document; throws `BadRecordError` naming `where`. */
export function readDocument<V>(
  fields: RecordFields<V>,
  document: Record<string, unknown>,
  where: string,
): DocumentRecord<V> {
  return {
    id: orderKey(document._id, where),
    key: fields.key.read(document[fields.key.name], where),
    value: fields.value.read(document[fields.value.name], where),
  };
}
