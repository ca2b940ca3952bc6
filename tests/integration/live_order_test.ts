/**
 * Which change is newer, end to end: wall time that steps back (Debezium ≥ 3.4), one order's
 * raw changes on two partitions, and a connector redelivering an older slice.
 */
import assert from "node:assert/strict";
import {
  type LiveWorker,
  mongoTotals,
  nonZero,
  scenario,
  storedTotals,
} from "../../devstack/lib/scenario.ts";
import {
  assertConverges,
  assertTotals,
  emptyBootstrap,
  LIVE_TEST_OPTIONS,
  prepare,
  relayedScenario,
  startWorker,
} from "../support/live.ts";
import { produce, startRelay } from "../../devstack/lib/kafka.ts";
import { MongoClient } from "mongodb";
import type { ResumeToken } from "../../devstack/debezium/resume_state.ts";
import { mongoUri } from "../../devstack/lib/env.ts";

/** A Debezium 3.4 create/update of order `id`: `source.ts_ms` is the write's wall time. */
function walltimeEvent(id: number, customer: string, amount: number, wallMs: number) {
  return {
    key: JSON.stringify({ id: String(id) }),
    value: JSON.stringify({
      op: "u",
      after: JSON.stringify({ _id: id, customer_id: customer, amount }),
      source: { version: "3.4.0.Final", connector: "mongodb", ts_ms: wallMs, ord: 1 },
      ts_ms: Date.now(),
    }),
  };
}

Deno.test({
  name: "live follows Kafka order when the primary's wall clock steps back (Debezium 3.4+)",
  ...LIVE_TEST_OPTIONS,
  fn: async () => {
    const s = scenario("wallback");
    await prepare(s, 1);
    await emptyBootstrap(s);
    const worker = startWorker(s);
    try {
      const ahead = Date.now() + 60_000; // after the handoff, then the clock is set back 10 s
      await produce(s.topic, [
        walltimeEvent(1, "a", 5, ahead),
        walltimeEvent(2, "a", 1, ahead + 1),
        walltimeEvent(1, "b", 7, ahead - 10_000),
      ]);
      await assertTotals(s, () => Promise.resolve(new Map([["a", 1n], ["b", 7n]])));
    } finally {
      await worker.stop("SIGTERM");
    }
  },
});

/** A raw order message on an explicit partition. */
function rawOn(partition: number, id: number, customer: string, amount: number) {
  return {
    partition,
    key: String(id),
    value: JSON.stringify({ _id: id, customer_id: customer, amount }),
  };
}

Deno.test({
  name: "live applies one order's raw changes from two partitions in the order they arrive",
  ...LIVE_TEST_OPTIONS,
  fn: async () => {
    const s = scenario("rawparts");
    await prepare(s, 2);
    await emptyBootstrap(s, ["--cdc-format=raw"]);
    const worker = startWorker(s, ["--cdc-format=raw"]);
    try {
      // Partition 0 runs ahead: order 1's first write sits at offset 5 there.
      const others = [10, 11, 12, 13, 14].map((id) => rawOn(0, id, "c", 1));
      await produce(s.topic, [...others, rawOn(0, 1, "a", 5)]);
      await assertTotals(s, () => Promise.resolve(new Map([["a", 5n], ["c", 5n]])));
      // A later write of order 1 arrives on partition 1, at offset 0.
      await produce(s.topic, [rawOn(1, 1, "b", 7)]);
      await assertTotals(s, () => Promise.resolve(new Map([["b", 7n], ["c", 5n]])));
    } finally {
      await worker.stop("SIGTERM");
    }
  },
});

Deno.test({
  name: "a connector redelivering an older slice after a restart never moves a total back",
  ...LIVE_TEST_OPTIONS,
  fn: async () => {
    await using scene = await relayedScenario("redeliver", 1);
    const { s, orders } = scene;
    const client = new MongoClient(mongoUri());
    let worker: LiveWorker | undefined;
    try {
      await client.connect();
      await emptyBootstrap(s);
      worker = startWorker(s);
      // Where a restarted connector resumes from: a token taken before the slice.
      const probe = client.db(s.db).collection(s.collection).watch([], { maxAwaitTimeMS: 1 });
      await probe.tryNext();
      const from = probe.resumeToken as ResumeToken;
      await probe.close();
      await orders.insertOne({ _id: 1 as never, customer_id: "a", amount: 1 });
      await orders.updateOne({ _id: 1 as never }, { $set: { amount: 2 } });
      await orders.updateOne({ _id: 1 as never }, { $set: { customer_id: "b", amount: 3 } });
      await orders.insertOne({ _id: 2 as never, customer_id: "a", amount: 10 });
      await orders.deleteOne({ _id: 2 as never });
      await assertConverges(s, orders);

      // The restarted connector sends the whole slice again, at new offsets.
      const again = await startRelay(s, { resumeAfter: from, fromNow: false });
      try {
        const want = nonZero(await mongoTotals(orders));
        for (let i = 0; i < 10; i++) {
          await new Promise((r) => setTimeout(r, 500));
          const stored = nonZero(await storedTotals(s));
          assert.deepEqual(stored, want, "a total moved while the slice replayed");
        }
      } finally {
        const stats = await again.stop();
        assert.ok(stats.records >= 6, `only ${stats.records} records redelivered`);
      }
      await orders.insertOne({ _id: 3 as never, customer_id: "a", amount: 4 });
      await assertConverges(s, orders);
    } finally {
      await worker?.stop("SIGTERM");
      await client.close();
    }
  },
});
