/**
 * The CDC decoder's entry point: one Kafka message in, one order change (or a skip) out.
 *
 * @module
 */
import { BadRecordError } from "../../util/errors.ts";
import type { FieldNames } from "../../pipeline/fields.ts";
import { decodeDebezium, isDebeziumEnvelope } from "./debezium.ts";
import { isPlainObject, parseJson, unwrapConnectJson, utf8Text } from "./extended_json.ts";
import { decodeFlattened, hasFlatteningMetadata } from "./flattened.ts";
import { debeziumKeyId } from "./key.ts";
import { decodeRaw, isRawDocument } from "./raw.ts";
import {
  type CdcDecoded,
  type CdcFormat,
  type CdcMessage,
  isCdcFormat,
  messageWhere,
} from "./types.ts";

/** Options for {@link decodeCdcMessage}. */
export interface DecodeCdcOptions {
  /**
   * The topic's format, or `auto` to detect it per message (see `CdcFormat`). Flattened topics
   * whose deletes arrive only as tombstones need `flattened`.
   * @default {"auto"}
   */
  format?: CdcFormat;
  /** The key and value fields the pipeline reads: updates touching neither are skipped. */
  fields: FieldNames;
  /**
   * Longer messages (key plus value bytes) are refused unread (`too_large`): parsing a huge
   * value would stall the batch and hold its text and its parse in memory at once.
   * @default {1048576} (Kafka's default `message.max.bytes`, 1 MiB)
   */
  maxRecordBytes?: number;
}

/** Kafka's default largest message (`message.max.bytes`, 1 MiB). */
export const DEFAULT_MAX_RECORD_BYTES = 1_048_576;

/**
 * Decodes one CDC message into an {@link CdcDecoded}: an `upsert`/`patch`/`delete` order change,
 * or `{kind: "skip", reason}` when there is nothing to apply (tombstone after a Debezium delete,
 * heartbeat, transaction metadata, an update that touches neither of the pipeline's `fields`).
 * Throws {@link BadRecordError} naming `topic[partition]@offset` and the reason for anything it
 * cannot read. The upsert's fields are not validated here: the pipeline's field readers do.
 *
 * In `auto` mode: a Debezium envelope (`op` plus `source`/`after`/…) is decoded as such; a
 * document with `__` metadata fields or under a Debezium key (`{"id": …}`) as a flattened
 * record; another document with an `_id` as a raw order; a null value is skipped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeCdcMessage } from "./decode.ts";
 * const text = new TextEncoder();
 * const change = decodeCdcMessage({
 *   topic: "orders.cdc", partition: 0, offset: "7",
 *   key: text.encode('{"id": "42"}'),
 *   value: text.encode(JSON.stringify({
 *     op: "c",
 *     after: '{"_id": 42, "customer_id": "c1", "amount": {"$numberLong": "1250"}}',
 *     source: { version: "2.7.0.Final", ts_ms: 1741186978000, ord: 25 },
 *   })),
 * }, { fields: { key: "customer_id", value: "amount" } });
 * assert.equal(change.kind, "upsert");
 * assert.equal(change.kind === "upsert" && change.orderKey, "n:42");
 * assert.deepEqual(change.kind === "upsert" && change.position, {
 *   clusterTime: (1741186978n << 32n) | 25n,
 * });
 * ```
 */
export function decodeCdcMessage(message: CdcMessage, options: DecodeCdcOptions): CdcDecoded {
  const { format = "auto", fields, maxRecordBytes = DEFAULT_MAX_RECORD_BYTES } = options;
  if (!isCdcFormat(format)) {
    throw new RangeError(
      `Cannot decode CDC messages as format must be auto, debezium, flattened or raw: current value is ${
        JSON.stringify(format)
      }`,
    );
  }
  const where = messageWhere(message);
  const bytes = (message.key?.length ?? 0) + (message.value?.length ?? 0);
  if (bytes > maxRecordBytes) {
    throw new BadRecordError(
      where,
      "too_large",
      `message is ${bytes} bytes (key plus value), over --max-record-bytes=${maxRecordBytes}`,
    );
  }
  if (message.value === null || message.value.length === 0) {
    if (format === "flattened") return decodeFlattened(null, message.key, fields, where);
    return { kind: "skip", reason: "tombstone" };
  }
  const payload = unwrapConnectJson(
    parseJson(utf8Text(message.value, "value", where), "value", where),
  );
  if (!isPlainObject(payload)) {
    throw new BadRecordError(where, "not_a_change", "value is not a JSON object");
  }
  const control = controlMessage(payload);
  if (control) return control;

  switch (format) {
    case "debezium":
      if (!isDebeziumEnvelope(payload)) {
        throw new BadRecordError(
          where,
          "not_a_change",
          "value is not a Debezium envelope (no op/source/after)",
        );
      }
      return decodeDebezium(payload, message.key, fields, where);
    case "flattened":
      return decodeFlattened(payload, message.key, fields, where);
    case "raw":
      return decodeRaw(payload, where);
  }
  if (isDebeziumEnvelope(payload)) return decodeDebezium(payload, message.key, fields, where);
  if (hasFlatteningMetadata(payload) || debeziumKeyId(message.key, where) !== undefined) {
    return decodeFlattened(payload, message.key, fields, where);
  }
  if (isRawDocument(payload)) return decodeRaw(payload, where);
  throw new BadRecordError(
    where,
    "not_a_change",
    "value is neither a Debezium envelope (op, source, after…) nor an order document (_id…)",
  );
}

/** Debezium's non-data messages: heartbeats and transaction metadata. */
function controlMessage(payload: Record<string, unknown>): CdcDecoded | undefined {
  const fields = Object.keys(payload);
  if (fields.length === 1 && fields[0] === "ts_ms") return { kind: "skip", reason: "heartbeat" };
  if (
    (payload.status === "BEGIN" || payload.status === "END") && typeof payload.id === "string" &&
    !("op" in payload)
  ) {
    return { kind: "skip", reason: "transaction_metadata" };
  }
  return undefined;
}
