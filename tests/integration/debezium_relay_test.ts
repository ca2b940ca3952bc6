/**
 * The dev Debezium relay against the real change-stream proxy and Kafka, checked with the
 * product's CDC decoder: what the relay writes must decode to the changes made in MongoDB.
 * Needs the local stack (`deno task stack:up`); fails when it is not running.
 */
import assert from "node:assert/strict";
import { Decimal128, Int32, Long, ObjectId } from "bson";
import { MongoClient } from "mongodb";
import { type CdcDecoded, decodeCdcMessage } from "../../src/sources/cdc/mod.ts";
import { mongoUri } from "../../devstack/lib/env.ts";
import { readTopic, startRelay, testKafka } from "../../devstack/lib/kafka.ts";
import { ORDER_FIELDS, readOrder } from "../support/cdc_fixtures.ts";

/** Reads `count` messages of `topic` from the start and decodes them. */
async function consume(topic: string, count: number): Promise<CdcDecoded[]> {
  const messages = await readTopic(topic, count);
  return messages.map((m) => decodeCdcMessage({ topic, ...m }, { fields: ORDER_FIELDS }));
}

Deno.test({
  name: "debezium relay: inserts, updates and deletes decode back to the same order changes",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const run = crypto.randomUUID().slice(0, 8);
    const db = `relaytest_${run}`;
    const topic = `relaytest.${run}.orders`;
    const dir = await Deno.makeTempDir({ prefix: "relay-test-" });
    const stateFile = `${dir}/relay.json`;
    const mongo = new MongoClient(mongoUri());
    await mongo.connect();
    const orders = mongo.db(db).collection("orders");
    const oid = new ObjectId();
    try {
      await orders.insertOne({ _id: new ObjectId(), customer_id: "warmup", amount: 1 });
      const target = { db, collection: "orders", topic };
      const relay = await startRelay(target, { schemas: true, stateFile });
      await orders.insertOne({ _id: oid, customer_id: "c1", amount: Long.MAX_VALUE });
      await orders.insertOne({
        _id: new Int32(1234) as never,
        customer_id: "c2",
        amount: Decimal128.fromString("250"),
      });
      await orders.insertOne({ _id: "A-17" as never, customer_id: "c3", amount: 5 });
      await orders.updateOne({ _id: "A-17" as never }, { $set: { amount: 7 } });
      await orders.deleteOne({ _id: new Int32(1234) as never });

      const changes = await consume(topic, 6);
      const stats = await relay.stop();
      assert.equal(stats.records, 6);
      assert.deepEqual(
        changes.map((c) => c.kind === "skip" ? c.reason : `${c.kind} ${c.orderKey}`),
        [
          `upsert o:${oid.toHexString()}`,
          "upsert n:1234",
          "upsert s:A-17",
          "upsert s:A-17",
          "delete n:1234",
          "tombstone",
        ],
      );
      const amounts = changes.flatMap((c) =>
        c.kind === "upsert" ? [readOrder(c.document, "t").amount] : []
      );
      assert.deepEqual(amounts, [9223372036854775807n, 250n, 5n, 7n]);
      for (const change of changes) {
        if (change.kind !== "skip") assert.equal(typeof change.position.clusterTime, "bigint");
      }

      // Stopped relay, then a write: the restarted relay resumes after its saved token.
      const saved = JSON.parse(await Deno.readTextFile(stateFile));
      assert.equal(typeof saved.resumeToken._data, "string");
      await orders.insertOne({ _id: new Int32(99) as never, customer_id: "c9", amount: 9 });
      const again = await startRelay(target, { schemas: true, stateFile, fromNow: false });
      const all = await consume(topic, 7);
      await again.stop();
      const last = all[6];
      assert.equal(last.kind === "upsert" && last.orderKey, "n:99");
    } finally {
      await mongo.db(db).dropDatabase().catch(() => {});
      await mongo.close();
      const admin = testKafka().admin();
      await admin.connect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
