import assert from "node:assert/strict";
import { readInt64 } from "../../src/pipeline/bson_values.ts";
import { type CdcDecoded, decodeCdcMessage } from "../../src/sources/cdc/mod.ts";
import {
  asKind,
  cdcMessage,
  loadCdcFixture,
  ORDER_FIELDS as fields,
  readOrder,
} from "../support/cdc_fixtures.ts";

const OID_KEY = "o:67c867a2e4b0a1c2d3e4f501";
const ct = (seconds: bigint, increment: bigint) => (seconds << 32n) | increment;

function decodeFixture(name: string, format?: "auto" | "debezium" | "flattened"): CdcDecoded {
  return decodeCdcMessage(loadCdcFixture(name).message, { format, fields });
}

Deno.test("decodeCdcMessage() reads a 2.x schema-wrapped insert with an exact int64 amount", () => {
  for (const format of ["auto", "debezium"] as const) {
    const change = asKind(decodeFixture("v2_create_schemas", format), "upsert");
    assert.equal(change.orderKey, OID_KEY);
    assert.deepEqual(change.position, { clusterTime: ct(1741186978n, 25n) });
    assert.deepEqual(readOrder(change.document, "t"), {
      orderKey: OID_KEY,
      customer_id: "cust-7",
      amount: 9223372036854775807n,
    });
  }
});

Deno.test("decodeCdcMessage() reads a 3.x update with a looked-up full document as an upsert", () => {
  const change = asKind(decodeFixture("v3_update_full"), "upsert");
  assert.equal(change.orderKey, "n:1234");
  assert.deepEqual(change.position, { clusterTime: ct(1741186990n, 1n) });
  assert.equal(readOrder(change.document, "t").amount, 1500n);
});

Deno.test("decodeCdcMessage() reads a snapshot read with a decimal amount and a string _id", () => {
  const change = asKind(decodeFixture("v3_snapshot_read"), "upsert");
  assert.equal(change.orderKey, "s:A-17");
  assert.deepEqual(change.position, { clusterTime: ct(1741186900n, 3n) });
  assert.deepEqual(readOrder(change.document, "t"), {
    orderKey: "s:A-17",
    customer_id: "cust-2",
    amount: 2500n,
  });
});

Deno.test("decodeCdcMessage() reads an insert inside a transaction", () => {
  const change = asKind(decodeFixture("v3_transaction_create"), "upsert");
  assert.equal(change.orderKey, "n:77");
  assert.deepEqual(change.position, { clusterTime: ct(1741187000n, 4n) });
});

Deno.test("decodeCdcMessage() gives 3.4 events a wall-clock position only", () => {
  const change = asKind(decodeFixture("v34_wall_time_create"), "upsert");
  assert.equal(change.orderKey, OID_KEY);
  assert.deepEqual(change.position, { wallMs: 1741186978123 });
});

Deno.test("decodeCdcMessage() turns a change_streams update into an exact patch", () => {
  const change = asKind(decodeFixture("v3_update_change_streams"), "patch");
  assert.equal(change.orderKey, "n:1234");
  assert.deepEqual(change.position, { clusterTime: ct(1741186991n, 2n) });
  assert.deepEqual(change.patch.removed, []);
  assert.equal(change.patch.set.customer_id, undefined);
  assert.equal(readInt64(change.patch.set.amount, "amount", "t"), 9223372036854775807n);
});

Deno.test("decodeCdcMessage() patches an update whose looked-up document was deleted", () => {
  const change = asKind(decodeFixture("v3_update_after_deleted"), "patch");
  assert.equal(change.orderKey, "n:1234");
  assert.deepEqual(change.patch, { set: { customer_id: "cust-9" }, removed: [] });
});

Deno.test("decodeCdcMessage() skips an update touching neither customer_id nor amount", () => {
  assert.deepEqual(decodeFixture("v3_update_irrelevant"), {
    kind: "skip",
    reason: "irrelevant_update",
  });
});

Deno.test("decodeCdcMessage() reports removed tracked fields in the patch", () => {
  const value = JSON.stringify({
    op: "u",
    source: { version: "3.1.2.Final", ts_ms: 1741186995000, ord: 1 },
    updateDescription: {
      removedFields: ["amount", "note"],
      updatedFields: '{"customer_id": 42}',
      truncatedArrays: null,
    },
  });
  const change = asKind(decodeCdcMessage(cdcMessage('{"id": "1234"}', value), { fields }), "patch");
  assert.deepEqual(change.patch.removed, ["amount"]);
  assert.equal(String(change.patch.set.customer_id), "42");
});

Deno.test("decodeCdcMessage() skips an update with neither after nor updateDescription", () => {
  const value = JSON.stringify({
    op: "u",
    after: null,
    source: { version: "3.1.2.Final", ts_ms: 1741186995000, ord: 1 },
  });
  assert.deepEqual(decodeCdcMessage(cdcMessage('{"id": "1234"}', value), { fields }), {
    kind: "skip",
    reason: "update_without_document",
  });
});

Deno.test("decodeCdcMessage() deletes the key's order and skips the tombstone after it", () => {
  const change = asKind(decodeFixture("v2_delete_schemas"), "delete");
  assert.equal(change.orderKey, OID_KEY);
  assert.deepEqual(change.position, { clusterTime: ct(1741187100n, 1n) });
  for (const format of ["auto", "debezium"] as const) {
    assert.deepEqual(decodeFixture("v2_delete_tombstone", format), {
      kind: "skip",
      reason: "tombstone",
    });
  }
});

Deno.test("decodeCdcMessage() deletes by before._id when the key is missing", () => {
  const withKey = asKind(decodeFixture("v3_delete_pre_image"), "delete");
  assert.equal(withKey.orderKey, "n:1234");
  const message = loadCdcFixture("v3_delete_pre_image").message;
  const withoutKey = asKind(decodeCdcMessage({ ...message, key: null }, { fields }), "delete");
  assert.equal(withoutKey.orderKey, "n:1234");
  assert.deepEqual(withoutKey.position, { clusterTime: ct(1741187200n, 7n) });
});

Deno.test("decodeCdcMessage() skips heartbeats and transaction metadata", () => {
  assert.deepEqual(decodeFixture("heartbeat"), { kind: "skip", reason: "heartbeat" });
  const txn = JSON.stringify({
    status: "END",
    id: "1741187000:4",
    ts_ms: 1741187000800,
    event_count: 2,
    data_collections: [{ data_collection: "shop.orders", event_count: 2 }],
  });
  assert.deepEqual(decodeCdcMessage(cdcMessage('{"id": "1741187000:4"}', txn), { fields }), {
    kind: "skip",
    reason: "transaction_metadata",
  });
});
