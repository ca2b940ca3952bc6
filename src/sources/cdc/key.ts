/**
 * The order a Debezium message key names.
 *
 * @module
 */
import { orderKey } from "../../pipeline/bson_values.ts";
import { BadRecordError } from "../../util/errors.ts";
import {
  isPlainObject,
  parseExtendedJson,
  parseJson,
  unwrapConnectJson,
  utf8Text,
} from "./extended_json.ts";

/**
 * The `id` string of a Debezium MongoDB key (`{"id": "<extended JSON of _id>"}`, schema-wrapped
 * or not), or `undefined` when `key` is absent or not shaped like one.
 */
export function debeziumKeyId(key: Uint8Array | null, where: string): string | undefined {
  if (key === null || key.length === 0) return undefined;
  let parsed: unknown;
  try {
    parsed = unwrapConnectJson(parseJson(utf8Text(key, "key", where), "key", where));
  } catch {
    return undefined;
  }
  if (!isPlainObject(parsed) || typeof parsed.id !== "string") return undefined;
  return parsed.id;
}

/**
 * The canonical {@link orderKey} of the document a Debezium key names. The key's `id` is itself
 * extended JSON of the `_id`: `"1234"` → 1234, `"\"abc\""` → "abc", `{"$oid": …}` → ObjectId.
 * Throws {@link BadRecordError} when the key is missing or malformed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { orderKeyFromDebeziumKey } from "./key.ts";
 * const key = new TextEncoder().encode('{"id": "\\"A-17\\""}');
 * assert.equal(orderKeyFromDebeziumKey(key, "orders.cdc[0]@5"), "s:A-17");
 * ```
 */
export function orderKeyFromDebeziumKey(key: Uint8Array | null, where: string): string {
  if (key === null || key.length === 0) {
    throw new BadRecordError(
      where,
      "bad_message_key",
      "message has no key, so the order it deletes is unknown",
    );
  }
  const parsed = unwrapConnectJson(parseJson(utf8Text(key, "key", where), "key", where));
  if (!isPlainObject(parsed) || typeof parsed.id !== "string") {
    throw new BadRecordError(
      where,
      "bad_message_key",
      'key is not a Debezium MongoDB key {"id": "<extended JSON>"}',
    );
  }
  return orderKey(parseExtendedJson(parsed.id, "key id", where), where);
}

/**
 * The order a message is about: `valueOrder` (the canonical key of the value's `_id`), checked
 * against the Debezium key when there is one. A key naming another order is refused, neither
 * trusted nor ignored: one of the two is wrong, and applying either could change the wrong
 * order. `sameOrder` decides agreement (exact by default; a flattened `_id` is weaker typed).
 */
export function orderAgreeingWithKey(
  key: Uint8Array | null,
  valueOrder: string,
  where: string,
  sameOrder = (keyOrder: string) => keyOrder === valueOrder,
): string {
  if (debeziumKeyId(key, where) === undefined) return valueOrder;
  const keyOrder = orderKeyFromDebeziumKey(key, where);
  if (!sameOrder(keyOrder)) {
    throw new BadRecordError(
      where,
      "key_mismatch",
      `key names order ${keyOrder} but the value's _id is ${valueOrder}`,
    );
  }
  return keyOrder;
}
