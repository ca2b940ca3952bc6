/**
 * Decoders for the Kafka CDC topic: Debezium MongoDB envelopes (2.x/3.x, with or without the
 * JsonConverter schema wrapper), ExtractNewDocumentState-flattened records and bare order
 * documents, each to an `OrderChange` or a typed skip.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeCdcMessage } from "./mod.ts";
 * const result = decodeCdcMessage(
 *   { topic: "orders.cdc", partition: 0, offset: "8", key: null, value: null },
 *   { fields: { key: "customer_id", value: "amount" } },
 * );
 * assert.deepEqual(result, { kind: "skip", reason: "tombstone" });
 * ```
 *
 * @module
 */
export { decodeCdcMessage, type DecodeCdcOptions } from "./decode.ts";
export {
  CDC_FORMATS,
  type CdcDecoded,
  type CdcFormat,
  type CdcMessage,
  type CdcSkip,
  isCdcFormat,
  messageWhere,
  type SkipReason,
} from "./types.ts";
export { sourcePosition, tsMsIsWallTime } from "./position.ts";
export { orderKeyFromDebeziumKey } from "./key.ts";
export { parseExtendedJson, parseJson } from "./extended_json.ts";
