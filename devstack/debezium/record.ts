/**
 * DEV/TEST ONLY. Turns one MongoDB change stream event into the Kafka record a Debezium MongoDB
 * connector (capture.mode `change_streams_update_full_with_pre_image` when pre-images exist,
 * else `change_streams_update_full`) would write, JSON converter, schemas on or off.
 * Pure: no I/O, so tests can call it directly. It does not use the orderstats decoder: it
 * stands in for Debezium, and tests check one against the other.
 *
 * @module
 */
import { type JsonMode, toExtendedJson } from "./extended_json.ts";

/** The fields of a change stream event this uses (driver's `ChangeStreamDocument`, loosely). */
export interface RelayChangeEvent {
  operationType: string;
  /** The resume token. */
  _id?: unknown;
  clusterTime?: { t: number; i: number };
  wallTime?: Date;
  documentKey?: { _id: unknown };
  fullDocument?: Record<string, unknown> | null;
  fullDocumentBeforeChange?: Record<string, unknown> | null;
  updateDescription?: {
    updatedFields?: Record<string, unknown> | null;
    removedFields?: string[] | null;
    truncatedArrays?: { field: string; newSize: number }[] | null;
  } | null;
  lsid?: Record<string, unknown>;
  txnNumber?: unknown;
}

/** Options for {@link toDebeziumRecord}. */
export interface DebeziumRecordOptions {
  /** Logical connector name (`source.name`, `topic.prefix`). */
  name: string;
  db: string;
  collection: string;
  /** Debezium version to imitate; from 3.4 `source.ts_ms` is the wall time. @default {"2.7.0.Final"} */
  version?: string;
  /** Wrap key and value in `{schema, payload}` (JsonConverter `schemas.enable=true`). @default {false} */
  schemas?: boolean;
  /** Processing time for the top-level `ts_ms`. @default {Date.now()} */
  nowMs?: number;
}

/** One Kafka record as JSON text (`value: null` is a tombstone). */
export interface DebeziumRecord {
  key: string;
  value: string | null;
}

const OPS: Record<string, string> = { insert: "c", update: "u", replace: "u", delete: "d" };

/**
 * The Debezium record for `event`, or `null` for events Debezium does not turn into data
 * records (drop, rename, invalidate…). A delete is followed by {@link tombstoneFor}.
 */
export function toDebeziumRecord(
  event: RelayChangeEvent,
  options: DebeziumRecordOptions,
): DebeziumRecord | null {
  const op = OPS[event.operationType];
  if (op === undefined) return null;
  if (!event.documentKey || !event.clusterTime) {
    throw new TypeError(`change event ${event.operationType} lacks documentKey or clusterTime`);
  }
  const { version = "2.7.0.Final", schemas = false, nowMs = Date.now() } = options;
  const keyPayload = { id: toExtendedJson(event.documentKey._id, "relaxed") };
  const valuePayload = {
    before: strictOrNull(event.fullDocumentBeforeChange),
    after: op === "d" ? null : strictOrNull(event.fullDocument),
    updateDescription: event.operationType === "update" && event.updateDescription
      ? updateDescription(event.updateDescription)
      : null,
    source: source(event, options, version),
    op,
    ts_ms: nowMs,
    ts_us: nowMs * 1000,
    ts_ns: nowMs * 1_000_000,
    transaction: null,
  };
  const prefix = `${options.name}.${options.db}.${options.collection}`;
  return {
    key: JSON.stringify(schemas ? { schema: keySchema(prefix), payload: keyPayload } : keyPayload),
    value: JSON.stringify(
      schemas ? { schema: valueSchema(prefix), payload: valuePayload } : valuePayload,
    ),
  };
}

/**
 * The record Debezium's ExtractNewDocumentState SMT makes of `event`, with
 * `add.fields=op,source.ts_ms,source.ord,source.version` and the default
 * `delete.tombstone.handling.mode=tombstone`: the document's top-level fields as typed JSON
 * (ObjectId and Decimal128 as strings, numbers as numbers) plus `__op` and `__source_*`; a
 * delete leaves only its tombstone, which carries no position. `null` where
 * {@link toDebeziumRecord} gives none.
 */
export function toFlattenedRecord(
  event: RelayChangeEvent,
  options: DebeziumRecordOptions,
): DebeziumRecord | null {
  const record = toDebeziumRecord(event, { ...options, schemas: false });
  if (record === null) return null;
  if (event.operationType === "delete") return tombstoneFor(record);
  const { op, source } = JSON.parse(record.value!);
  const document = event.fullDocument ??
    { _id: event.documentKey!._id, ...event.updateDescription?.updatedFields };
  const fields = Object.entries(document).map(([name, value]) =>
    `${JSON.stringify(name)}: ${smtJson(value)}`
  );
  fields.push(
    `"__op": ${JSON.stringify(op)}`,
    `"__source_ts_ms": ${source.ts_ms}`,
    `"__source_ord": ${source.ord}`,
    `"__source_version": ${JSON.stringify(source.version)}`,
  );
  return { key: record.key, value: `{${fields.join(", ")}}` };
}

/** A top-level field as the SMT types it (MongoDataConverter). */
function smtJson(value: unknown): string {
  const type = (value as { _bsontype?: string } | null)?._bsontype;
  if (type === "ObjectId" || type === "ObjectID") {
    return JSON.stringify((value as { toHexString(): string }).toHexString());
  }
  if (type === "Decimal128") return JSON.stringify(String(value));
  return toExtendedJson(value, "relaxed");
}

/** The tombstone Debezium sends after a delete (`tombstones.on.delete=true`). */
export function tombstoneFor(record: DebeziumRecord): DebeziumRecord {
  return { key: record.key, value: null };
}

/** Whether this Debezium version writes the wall time into `source.ts_ms` (3.4+, DBZ-9683). */
export function writesWallTimeTsMs(version: string): boolean {
  const match = /^(\d+)\.(\d+)/.exec(version);
  if (!match) throw new RangeError(`Cannot imitate Debezium version '${version}'`);
  const [major, minor] = [Number(match[1]), Number(match[2])];
  return major > 3 || (major === 3 && minor >= 4);
}

function strictOrNull(doc: Record<string, unknown> | null | undefined, mode: JsonMode = "strict") {
  return doc === null || doc === undefined ? null : toExtendedJson(doc, mode);
}

function updateDescription(description: NonNullable<RelayChangeEvent["updateDescription"]>) {
  const removed = description.removedFields ?? [];
  const truncated = description.truncatedArrays ?? [];
  return {
    removedFields: removed.length > 0 ? removed : null,
    updatedFields: strictOrNull(description.updatedFields, "relaxed"),
    truncatedArrays: truncated.length > 0
      ? truncated.map((t) => ({ field: t.field, size: t.newSize }))
      : null,
  };
}

function source(event: RelayChangeEvent, options: DebeziumRecordOptions, version: string) {
  const { t, i } = event.clusterTime!;
  const wallMs = event.wallTime ? event.wallTime.getTime() : null;
  const tsMs = writesWallTimeTsMs(version) && wallMs !== null ? wallMs : t * 1000;
  return {
    version,
    connector: "mongodb",
    name: options.name,
    ts_ms: tsMs,
    snapshot: "false",
    db: options.db,
    sequence: null,
    ts_us: tsMs * 1000,
    ts_ns: tsMs * 1_000_000,
    collection: options.collection,
    ord: i,
    lsid: event.lsid ? toExtendedJson(event.lsid, "relaxed") : null,
    txnNumber: event.txnNumber === undefined || event.txnNumber === null
      ? null
      : Number(event.txnNumber),
    wallTime: wallMs,
  };
}

const optionalJson = (field: string) => ({
  type: "string",
  optional: true,
  name: "io.debezium.data.Json",
  version: 1,
  field,
});

function keySchema(prefix: string) {
  return {
    type: "struct",
    fields: [{ type: "string", optional: false, field: "id" }],
    optional: false,
    name: `${prefix}.Key`,
  };
}

function valueSchema(prefix: string) {
  const field = (type: string, name: string, optional = true) => ({ type, optional, field: name });
  return {
    type: "struct",
    optional: false,
    name: `${prefix}.Envelope`,
    fields: [
      optionalJson("before"),
      optionalJson("after"),
      {
        type: "struct",
        optional: true,
        name: "io.debezium.connector.mongodb.changestream.updatedescription",
        version: 1,
        field: "updateDescription",
        fields: [
          {
            type: "array",
            items: { type: "string", optional: false },
            optional: true,
            field: "removedFields",
          },
          optionalJson("updatedFields"),
          {
            type: "array",
            optional: true,
            field: "truncatedArrays",
            items: {
              type: "struct",
              optional: false,
              name: "io.debezium.connector.mongodb.changestream.truncatedarray",
              version: 1,
              fields: [field("string", "field", false), field("int32", "size", false)],
            },
          },
        ],
      },
      {
        type: "struct",
        optional: false,
        name: "io.debezium.connector.mongo.Source",
        field: "source",
        fields: [
          field("string", "version", false),
          field("string", "connector", false),
          field("string", "name", false),
          field("int64", "ts_ms", false),
          {
            type: "string",
            optional: true,
            name: "io.debezium.data.Enum",
            version: 1,
            parameters: {
              allowed:
                "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental",
            },
            default: "false",
            field: "snapshot",
          },
          field("string", "db", false),
          field("string", "sequence"),
          field("int64", "ts_us"),
          field("int64", "ts_ns"),
          field("string", "collection", false),
          field("int32", "ord", false),
          field("string", "lsid"),
          field("int64", "txnNumber"),
          field("int64", "wallTime"),
        ],
      },
      field("string", "op"),
      field("int64", "ts_ms"),
      field("int64", "ts_us"),
      field("int64", "ts_ns"),
      {
        type: "struct",
        optional: true,
        name: "event.block",
        version: 1,
        field: "transaction",
        fields: [
          field("string", "id", false),
          field("int64", "total_order", false),
          field("int64", "data_collection_order", false),
        ],
      },
    ],
  };
}
