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
import { BadRecordError, type BadRecordKind } from "../util/errors.ts";

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

/** Reads a full document; throws `BadRecordError` naming `where` and every bad field. */
export function readDocument<V>(
  fields: RecordFields<V>,
  document: Record<string, unknown>,
  where: string,
): DocumentRecord<V> {
  const id = orderKey(document._id, where);
  const { key, value, invalid } = readFields(
    () => fields.key.read(document[fields.key.name], where),
    () => fields.value.read(document[fields.value.name], where),
    where,
  );
  if (invalid) throw invalid;
  return { id, key: key!, value: value! };
}

/** Both fields of a record as far as they are valid, and why the others are not. */
export interface FieldsReading<V> {
  key?: string;
  value?: V;
  invalid?: BadRecordError;
}

/**
 * Reads both fields, keeping each valid one and collecting why the others are not. The
 * reasons are counted by the field that failed (`bad_key_field`, `bad_value_field`, or
 * `bad_fields` for both), whichever reader the app gave each field, so bootstrap and live
 * report a document alike.
 */
export function readFields<V>(
  key: () => string,
  value: () => V,
  where: string,
): FieldsReading<V> {
  const failed: BadRecordKind[] = [];
  const reasons: string[] = [];
  const attempt = <T>(field: () => T, kind: BadRecordKind): T | undefined => {
    try {
      return field();
    } catch (error) {
      if (!(error instanceof BadRecordError)) throw error;
      failed.push(kind);
      reasons.push(error.reason);
      return undefined;
    }
  };
  const result: FieldsReading<V> = {};
  const k = attempt(key, "bad_key_field");
  const v = attempt(value, "bad_value_field");
  if (k !== undefined) result.key = k;
  if (v !== undefined) result.value = v;
  if (failed.length > 0) {
    const kind = failed.length === 1 ? failed[0] : "bad_fields";
    result.invalid = new BadRecordError(where, kind, reasons.join("; "));
  }
  return result;
}
