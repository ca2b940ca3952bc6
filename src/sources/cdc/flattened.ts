/**
 * Decodes records flattened by Debezium's ExtractNewDocumentState SMT: the value is the
 * document itself as typed JSON, plus optional `__`-prefixed metadata (`__deleted` in the
 * `rewrite` delete modes, `__op` and `__source_*` from `add.fields`).
 *
 * The SMT writes an ObjectId as its hex string and a Decimal128 as its decimal string
 * (MongoDataConverter), so the document's own `_id` loses its type: the order key comes from
 * the Debezium message key whenever there is one.
 *
 * @module
 */
import { Decimal128, ObjectId } from "bson";
import { orderKey } from "../../pipeline/bson_values.ts";
import { BadRecordError } from "../../util/errors.ts";
import type { Position } from "../../pipeline/change.ts";
import type { FieldNames } from "../../pipeline/fields.ts";
import { fromExtendedJson, isPlainObject } from "./extended_json.ts";
import { debeziumKeyId, orderAgreeingWithKey, orderKeyFromDebeziumKey } from "./key.ts";
import { sourcePosition } from "./position.ts";
import type { CdcDecoded } from "./types.ts";

const METADATA_PREFIX = "__";
/** How the SMT renders a Decimal128 (`BigDecimal`-style text, exponent form included). */
const DECIMAL_TEXT = /^-?\d+(?:\.\d+)?(?:E[+-]?\d+)?$/i;
/** How the SMT renders an ObjectId. */
const OBJECT_ID_HEX = /^[0-9a-f]{24}$/i;
const OPS = new Set(["c", "r", "u", "d"]);

/** Whether a document carries any flattening metadata field (`__deleted`, `__op`, …). */
export function hasFlatteningMetadata(value: Record<string, unknown>): boolean {
  return Object.keys(value).some((name) => name.startsWith(METADATA_PREFIX));
}

/**
 * One flattened record to an order change. `value === null` (a tombstone) is a delete of the
 * key's order: with the SMT's default `delete.tombstone.handling.mode=tombstone` that is how a
 * delete arrives. `__deleted: "true"` or `__op: "d"` is a delete too; anything else upserts
 * the document (metadata fields removed; a decimal string in the value field, which is how the
 * SMT writes a Decimal128, back to a `Decimal128`).
 *
 * Position: `__source_ts_ms` with `__source_ord` and `__source_version` (add them with
 * `add.fields=source.ts_ms,source.ord,source.version`) give what a Debezium envelope's source
 * gives; `ts_ms` alone is wall-clock only; none → an empty position.
 */
export function decodeFlattened(
  value: Record<string, unknown> | null,
  key: Uint8Array | null,
  fields: FieldNames,
  where: string,
): CdcDecoded {
  if (value === null) {
    return { kind: "delete", orderKey: orderKeyFromDebeziumKey(key, where), position: {} };
  }
  const position = flattenedPosition(value, where);
  const op = value.__op;
  if (op !== undefined && (typeof op !== "string" || !OPS.has(op))) {
    throw new BadRecordError(where, "unknown_op", `unknown __op ${JSON.stringify(op)}`);
  }
  if (isDeleted(value.__deleted, where) || op === "d") {
    return { kind: "delete", orderKey: keyOf(value, key, where), position };
  }
  const plain: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(value)) {
    if (!name.startsWith(METADATA_PREFIX)) plain[name] = field;
  }
  const document = fromExtendedJson(plain, "value", where) as Record<string, unknown>;
  const written = document[fields.value];
  if (typeof written === "string" && DECIMAL_TEXT.test(written)) {
    document[fields.value] = Decimal128.fromString(written);
  }
  const orderKey = keyOf(value, key, where);
  return { kind: "upsert", orderKey, document, position, inserted: op === "c" };
}

function isDeleted(flag: unknown, where: string): boolean {
  if (flag === undefined || flag === false || flag === "false") return false;
  if (flag === true || flag === "true") return true;
  throw new BadRecordError(
    where,
    "unknown_op",
    `__deleted ${JSON.stringify(flag)} is not "true" or "false"`,
  );
}

function flattenedPosition(value: Record<string, unknown>, where: string): Position {
  return sourcePosition({
    version: value.__source_version,
    ts_ms: value.__source_ts_ms,
    ord: value.__source_ord,
  }, where);
}

/**
 * The order of a flattened record: its Debezium key's, checked against the value's `_id`
 * (a key alone when the value has none). The SMT writes an ObjectId `_id` as its 24 hex
 * digits, so such a string is read back as the ObjectId, which is how bootstrap keys it, and a
 * string `_id` agrees with a key of the same text whatever its type.
 */
function keyOf(value: Record<string, unknown>, key: Uint8Array | null, where: string): string {
  const written = value._id;
  if (written === undefined && debeziumKeyId(key, where) !== undefined) {
    return orderKeyFromDebeziumKey(key, where);
  }
  const id = isPlainObject(written) ? fromExtendedJson(written, "_id", where) : written;
  const valueOrder = orderKey(
    typeof id === "string" && OBJECT_ID_HEX.test(id) ? new ObjectId(id) : id,
    where,
  );
  return orderAgreeingWithKey(
    key,
    valueOrder,
    where,
    (keyOrder) =>
      keyOrder === valueOrder ||
      (typeof written === "string" && keyOrder.slice(2).toLowerCase() === written.toLowerCase()),
  );
}
