import assert from "node:assert/strict";
import { Decimal128, Double, Int32, Long, ObjectId, Timestamp } from "bson";
import { readInt64 } from "../../src/pipeline/bson_values.ts";
import type { OrderChange } from "../../src/pipeline/change.ts";
import { decodeCdcMessage } from "../../src/sources/cdc/mod.ts";
import {
  type RelayChangeEvent,
  toDebeziumRecord,
  toFlattenedRecord,
  tombstoneFor,
  writesWallTimeTsMs,
} from "../../devstack/debezium/record.ts";
import { toExtendedJson } from "../../devstack/debezium/extended_json.ts";
import { ORDER_FIELDS, readOrder } from "../support/cdc_fixtures.ts";

const OPTIONS = { name: "shop", db: "shop", collection: "orders", nowMs: 1741186999000 };
const CLUSTER = new Timestamp({ t: 1741186978, i: 25 });
const WALL = new Date(1741186978123);
const OID = new ObjectId("67c867a2e4b0a1c2d3e4f501");

function decode(event: RelayChangeEvent, extra: { schemas?: boolean; version?: string } = {}) {
  const record = toDebeziumRecord(event, { ...OPTIONS, ...extra });
  assert.ok(record);
  const encode = (text: string | null) => text === null ? null : new TextEncoder().encode(text);
  return decodeCdcMessage({
    topic: "orders.cdc",
    partition: 0,
    offset: "1",
    key: encode(record.key),
    value: encode(record.value),
  }, { fields: ORDER_FIELDS });
}

Deno.test("toExtendedJson() writes Debezium's strict and relaxed forms", () => {
  const doc = {
    _id: OID,
    i: new Int32(7),
    l: Long.MAX_VALUE,
    d: new Double(2),
    m: Decimal128.fromString("12.50"),
    s: "x",
  };
  assert.equal(
    toExtendedJson(doc, "strict"),
    '{"_id": {"$oid": "67c867a2e4b0a1c2d3e4f501"}, "i": 7, "l": {"$numberLong": "9223372036854775807"}, ' +
      '"d": 2.0, "m": {"$numberDecimal": "12.50"}, "s": "x"}',
  );
  assert.equal(toExtendedJson(Long.MAX_VALUE, "relaxed"), "9223372036854775807");
  assert.equal(toExtendedJson(new Int32(1234), "relaxed"), "1234");
  assert.equal(toExtendedJson("1234", "relaxed"), '"1234"');
  assert.equal(toExtendedJson(OID, "relaxed"), '{"$oid": "67c867a2e4b0a1c2d3e4f501"}');
});

Deno.test("toDebeziumRecord() output decodes to the same order changes, schemas on and off", () => {
  const ids: [unknown, string][] = [
    [OID, "o:67c867a2e4b0a1c2d3e4f501"],
    ["A-17", "s:A-17"],
    [new Int32(1234), "n:1234"],
    [Long.MAX_VALUE, "n:9223372036854775807"],
  ];
  for (const schemas of [false, true]) {
    for (const [id, orderKey] of ids) {
      const insert = decode({
        operationType: "insert",
        clusterTime: CLUSTER,
        wallTime: WALL,
        documentKey: { _id: id },
        fullDocument: { _id: id, customer_id: "c1", amount: Long.MAX_VALUE },
      }, { schemas }) as Extract<OrderChange, { kind: "upsert" }>;
      assert.equal(insert.kind, "upsert");
      assert.equal(insert.orderKey, orderKey);
      assert.deepEqual(insert.position, { clusterTime: (1741186978n << 32n) | 25n });
      assert.equal(readOrder(insert.document, "t").amount, 9223372036854775807n);

      const remove = decode({
        operationType: "delete",
        clusterTime: CLUSTER,
        documentKey: { _id: id },
      }, { schemas });
      assert.deepEqual(remove, {
        kind: "delete",
        orderKey,
        position: { clusterTime: (1741186978n << 32n) | 25n },
      });
    }
  }
});

Deno.test("toDebeziumRecord() updates: full document upserts, partial ones patch", () => {
  const base = {
    operationType: "update",
    clusterTime: CLUSTER,
    documentKey: { _id: new Int32(5) },
  };
  const updateDescription = {
    updatedFields: { amount: Decimal128.fromString("42") },
    removedFields: ["customer_id"],
  };
  const full = decode({
    ...base,
    fullDocument: { _id: new Int32(5), customer_id: "c", amount: new Int32(42) },
    updateDescription,
  });
  assert.equal(full.kind, "upsert");
  const partial = decode({ ...base, fullDocument: null, updateDescription });
  assert.equal(partial.kind, "patch");
  const patch = (partial as Extract<OrderChange, { kind: "patch" }>).patch;
  assert.equal(readInt64(patch.set.amount, "amount", "t"), 42n);
  assert.deepEqual(patch.removed, ["customer_id"]);
});

Deno.test("toDebeziumRecord() imitates 3.4's wall-time ts_ms", () => {
  const change = decode({
    operationType: "insert",
    clusterTime: CLUSTER,
    wallTime: WALL,
    documentKey: { _id: new Int32(1) },
    fullDocument: { _id: new Int32(1), customer_id: "c", amount: new Int32(1) },
  }, { version: "3.4.0.Final" });
  assert.deepEqual(change.kind === "upsert" && change.position, { wallMs: 1741186978123 });
  assert.equal(writesWallTimeTsMs("3.3.1.Final"), false);
  assert.throws(() => writesWallTimeTsMs("next"), RangeError);
});

Deno.test("toDebeziumRecord() writes the key as Debezium does and skips non-data events", () => {
  const record = toDebeziumRecord({
    operationType: "delete",
    clusterTime: CLUSTER,
    documentKey: { _id: OID },
  }, OPTIONS);
  assert.ok(record);
  assert.deepEqual(JSON.parse(record.key), { id: '{"$oid": "67c867a2e4b0a1c2d3e4f501"}' });
  assert.deepEqual(tombstoneFor(record), { key: record.key, value: null });
  const value = JSON.parse(record.value!);
  assert.equal(value.op, "d");
  assert.equal(value.after, null);
  assert.deepEqual(
    { ts_ms: value.source.ts_ms, ord: value.source.ord, snapshot: value.source.snapshot },
    { ts_ms: 1741186978000, ord: 25, snapshot: "false" },
  );
  for (const operationType of ["drop", "rename", "invalidate", "dropDatabase"]) {
    assert.equal(toDebeziumRecord({ operationType }, OPTIONS), null);
  }
});

Deno.test("toFlattenedRecord() writes the SMT's typed fields and positions; a delete is a tombstone", () => {
  const event: RelayChangeEvent = {
    operationType: "insert",
    clusterTime: CLUSTER,
    wallTime: WALL,
    documentKey: { _id: OID },
    fullDocument: { _id: OID, customer_id: "c1", amount: Long.fromString("9007199254740993") },
  };
  const record = toFlattenedRecord(event, OPTIONS)!;
  const encode = (text: string | null) => text === null ? null : new TextEncoder().encode(text);
  const message = (r: typeof record) => ({
    topic: "orders.cdc",
    partition: 0,
    offset: "1",
    key: encode(r.key),
    value: encode(r.value),
  });
  const change = decodeCdcMessage(message(record), { format: "flattened", fields: ORDER_FIELDS });
  assert.equal(change.kind, "upsert");
  assert.equal(change.kind === "upsert" && change.orderKey, `o:${OID.toHexString()}`);
  assert.deepEqual(change.kind === "upsert" && change.position, {
    clusterTime: (1741186978n << 32n) | 25n,
  });
  assert.equal(
    change.kind === "upsert" && readOrder(change.document, "x").amount,
    9007199254740993n,
  );
  assert.match(record.value!, /"_id": "67c867a2e4b0a1c2d3e4f501"/);

  const tombstone = toFlattenedRecord({ ...event, operationType: "delete" }, OPTIONS)!;
  assert.equal(tombstone.value, null);
  assert.deepEqual(
    decodeCdcMessage(message(tombstone), { format: "flattened", fields: ORDER_FIELDS }),
    {
      kind: "delete",
      orderKey: `o:${OID.toHexString()}`,
      position: {},
    },
  );
});
