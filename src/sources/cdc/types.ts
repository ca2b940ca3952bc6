/**
 * Shapes shared by the CDC decoders: the Kafka message they read, the formats they know and
 * what they return when a message carries nothing to apply.
 *
 * @module
 */
import type { OrderChange } from "../../pipeline/change.ts";

/** One Kafka message as a consumer hands it over (kafkajs gives `offset` as a string). */
export interface CdcMessage {
  topic: string;
  partition: number;
  offset: string | number | bigint;
  key: Uint8Array | null;
  value: Uint8Array | null;
}

/** The wire formats the decoder understands; see `decodeCdcMessage()`. */
export const CDC_FORMATS = ["auto", "debezium", "flattened", "raw"] as const;

/**
 * How a topic's messages are encoded.
 *
 * - `auto`: detect per message. A tombstone (null value) has no body to detect from and is
 *   skipped, which is right for Debezium envelope topics (the delete event came before it).
 * - `debezium`: the Debezium MongoDB envelope (`op`, `after`, `source`…), schema-wrapped or not.
 * - `flattened`: Debezium's ExtractNewDocumentState SMT output. A tombstone is a delete of the
 *   key's order: with `delete.tombstone.handling.mode=tombstone` (the SMT's default) that is
 *   the only trace a delete leaves, so such topics need this format set explicitly.
 * - `raw`: a bare order document `{_id, customer_id, amount}`; tombstones are skipped.
 */
export type CdcFormat = (typeof CDC_FORMATS)[number];

/** Whether `value` names one of {@link CDC_FORMATS}. */
export function isCdcFormat(value: string): value is CdcFormat {
  return (CDC_FORMATS as readonly string[]).includes(value);
}

/** Why a message was skipped; stable strings, meant as metric labels. */
export type SkipReason =
  /** A null value that is not a delete (the tombstone after a Debezium delete). */
  | "tombstone"
  /** A Debezium heartbeat (`{ts_ms}` only), sent to keep offsets moving. */
  | "heartbeat"
  /** A Debezium transaction metadata event (`status: BEGIN|END`). */
  | "transaction_metadata"
  /** An update with neither a full document nor an update description. */
  | "update_without_document"
  /** An update whose description touches neither of the pipeline's fields. */
  | "irrelevant_update";

/** A message that needs no state change. */
export interface CdcSkip {
  kind: "skip";
  reason: SkipReason;
}

/** What decoding one message yields: one order change, or a reason to do nothing. */
export type CdcDecoded = OrderChange | CdcSkip;

/** Names a message in errors and logs: `topic[partition]@offset`. */
export function messageWhere(message: Pick<CdcMessage, "topic" | "partition" | "offset">): string {
  return `${message.topic}[${message.partition}]@${message.offset}`;
}
