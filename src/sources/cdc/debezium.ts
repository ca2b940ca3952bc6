/**
 * Decodes the Debezium MongoDB change event envelope (2.x and 3.x).
 *
 * `after`/`before` and `updateDescription.updatedFields` are JSON strings of extended JSON;
 * they are parsed exactly (int64 and decimals intact). See tests/fixtures/debezium/README.md
 * for where the shapes come from.
 *
 * @module
 */
import { orderKey } from "../../pipeline/bson_values.ts";
import { BadRecordError } from "../../util/errors.ts";
import type { OrderPatch, Position } from "../../pipeline/change.ts";
import type { FieldNames } from "../../pipeline/fields.ts";
import { isPlainObject, parseExtendedJson } from "./extended_json.ts";
import { orderAgreeingWithKey, orderKeyFromDebeziumKey } from "./key.ts";
import { sourcePosition } from "./position.ts";
import type { CdcDecoded } from "./types.ts";

/** The top-level fields of a Debezium MongoDB change event value. */
export interface DebeziumEnvelope {
  op: string;
  after?: unknown;
  before?: unknown;
  updateDescription?: unknown;
  source?: unknown;
  ts_ms?: unknown;
}

/** Whether a (schema-unwrapped) message value is a Debezium change event envelope. */
export function isDebeziumEnvelope(value: unknown): value is DebeziumEnvelope {
  return isPlainObject(value) && typeof value.op === "string" &&
    ("source" in value || "after" in value || "before" in value ||
      "updateDescription" in value);
}

/**
 * One Debezium MongoDB change event to an order change.
 *
 * - `c`/`r`, and `u` with `after` → `upsert` of `after`.
 * - `u` without `after` but with `updateDescription` → `patch` (`capture.mode=change_streams`,
 *   or update_full when the looked-up document was deleted since: the patch is still a true
 *   step and the delete follows); a patch touching neither of `fields` → skip.
 * - `u` with neither → skip `update_without_document`.
 * - `d` → `delete` of the key's order (or `before._id` when there is no key).
 *
 * A key naming another order than `after._id` or `before._id` is refused (`key_mismatch`).
 */
export function decodeDebezium(
  envelope: DebeziumEnvelope,
  key: Uint8Array | null,
  fields: FieldNames,
  where: string,
): CdcDecoded {
  const position = envelopePosition(envelope, where);
  switch (envelope.op) {
    case "c":
    case "r":
      return upsert(envelope, key, position, where);
    case "u":
      if (envelope.after !== undefined && envelope.after !== null) {
        return upsert(envelope, key, position, where);
      }
      if (isPlainObject(envelope.updateDescription)) {
        const tracked = [fields.key, fields.value];
        return patch(envelope.updateDescription, envelope, key, tracked, position, where);
      }
      return { kind: "skip", reason: "update_without_document" };
    case "d":
      return { kind: "delete", orderKey: keyOf(envelope, key, where), position };
    default:
      throw new BadRecordError(
        where,
        "unknown_op",
        `unknown Debezium op ${JSON.stringify(envelope.op)}`,
      );
  }
}

function envelopePosition(envelope: DebeziumEnvelope, where: string): Position {
  if (envelope.source === undefined || envelope.source === null) return {};
  if (!isPlainObject(envelope.source)) {
    throw new BadRecordError(where, "bad_envelope", "Debezium source is not an object");
  }
  return sourcePosition(envelope.source, where);
}

function documentField(
  envelope: DebeziumEnvelope,
  field: "after" | "before",
  where: string,
): Record<string, unknown> | undefined {
  const text = envelope[field];
  if (text === undefined || text === null) return undefined;
  if (typeof text !== "string") {
    throw new BadRecordError(
      where,
      "bad_envelope",
      `Debezium ${field} is not an extended JSON string`,
    );
  }
  const doc = parseExtendedJson(text, field, where);
  if (!isPlainObject(doc)) {
    throw new BadRecordError(where, "bad_envelope", `Debezium ${field} is not a document`);
  }
  return doc;
}

function upsert(
  envelope: DebeziumEnvelope,
  key: Uint8Array | null,
  position: Position,
  where: string,
): CdcDecoded {
  const document = documentField(envelope, "after", where);
  if (document === undefined) {
    throw new BadRecordError(
      where,
      "bad_envelope",
      `Debezium op ${envelope.op} has no after document`,
    );
  }
  const order = orderAgreeingWithKey(key, orderKey(document._id, where), where);
  return { kind: "upsert", orderKey: order, document, position, inserted: envelope.op === "c" };
}

/** The order a delete or patch is about: the key's, checked against `before` when there is one. */
function keyOf(envelope: DebeziumEnvelope, key: Uint8Array | null, where: string): string {
  const before = documentField(envelope, "before", where);
  if (before !== undefined) return orderAgreeingWithKey(key, orderKey(before._id, where), where);
  return orderKeyFromDebeziumKey(key, where); // throws when the key names no order
}

function patch(
  description: Record<string, unknown>,
  envelope: DebeziumEnvelope,
  key: Uint8Array | null,
  tracked: readonly string[],
  position: Position,
  where: string,
): CdcDecoded {
  const result: OrderPatch = { set: {}, removed: [] };
  let touched = false;
  const updatedText = description.updatedFields;
  if (updatedText !== undefined && updatedText !== null) {
    if (typeof updatedText !== "string") {
      throw new BadRecordError(
        where,
        "bad_envelope",
        "updateDescription.updatedFields is not a JSON string",
      );
    }
    const updated = parseExtendedJson(updatedText, "updatedFields", where);
    if (!isPlainObject(updated)) {
      throw new BadRecordError(
        where,
        "bad_envelope",
        "updateDescription.updatedFields is not a document",
      );
    }
    for (const path of Object.keys(updated)) {
      const field = trackedField(path, tracked, where);
      if (field) {
        result.set[field] = updated[path];
        touched = true;
      }
    }
  }
  const removed = description.removedFields ?? [];
  if (!Array.isArray(removed) || !removed.every((p) => typeof p === "string")) {
    throw new BadRecordError(
      where,
      "bad_envelope",
      "updateDescription.removedFields is not a list of strings",
    );
  }
  for (const path of removed as string[]) {
    const field = trackedField(path, tracked, where);
    if (field) {
      result.removed.push(field);
      touched = true;
    }
  }
  if (!touched) return { kind: "skip", reason: "irrelevant_update" };
  return { kind: "patch", orderKey: keyOf(envelope, key, where), patch: result, position };
}

/** The tracked field a top-level path names; throws for a path inside one. */
function trackedField(
  path: string,
  tracked: readonly string[],
  where: string,
): string | undefined {
  for (const field of tracked) {
    if (path === field) return field;
    if (path.startsWith(`${field}.`)) {
      throw new BadRecordError(
        where,
        "bad_envelope",
        `update changes ${path}, inside ${field}, which must be a scalar`,
      );
    }
  }
  return undefined;
}
