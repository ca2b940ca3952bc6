/**
 * A flattened topic (Debezium's ExtractNewDocumentState SMT, deletes as tombstones without a
 * position) end to end: MongoDB writes → change stream → the relay in `flatten` mode → live.
 */
import { type LiveWorker, orderstatsOk, stackFlags } from "../../devstack/lib/scenario.ts";
import { topicSize } from "../../devstack/lib/kafka.ts";
import { eventually } from "../../devstack/lib/scenario.ts";
import {
  assertConverges,
  LIVE_TEST_OPTIONS,
  relayedScenario,
  startWorker,
} from "../support/live.ts";

const FLATTENED = ["--cdc-format=flattened"];

Deno.test({
  name: "flattened topic: delete (a tombstone), then a re-insert of the same _id counts again",
  ...LIVE_TEST_OPTIONS,
  fn: async () => {
    await using scene = await relayedScenario("flatreins", 1, [], { flatten: true });
    const { s, orders } = scene;
    let worker: LiveWorker | undefined;
    try {
      await orderstatsOk(["--mode=bootstrap", ...stackFlags(s), "--bad-records-file=/dev/null"]);
      worker = startWorker(s, FLATTENED);
      await orders.insertMany([
        { _id: 1 as never, customer_id: "a", amount: 5 },
        { _id: 2 as never, customer_id: "a", amount: 1 },
      ]);
      await orders.deleteOne({ _id: 1 as never });
      await orders.insertOne({ _id: 1 as never, customer_id: "a", amount: 7 });
      await orders.updateOne({ _id: 2 as never }, { $set: { customer_id: "b" } });
      await assertConverges(s, orders);
    } finally {
      await worker?.stop("SIGTERM");
    }
  },
});

Deno.test({
  name:
    "flattened topic: a new group replaying from the start after a bootstrap keeps re-inserted orders",
  ...LIVE_TEST_OPTIONS,
  fn: async () => {
    await using scene = await relayedScenario("flatreplay", 1, [], { flatten: true });
    const { s, orders } = scene;
    let worker: LiveWorker | undefined;
    try {
      // History before the bootstrap: insert, delete (tombstone), re-insert.
      await orders.insertMany([
        { _id: 1 as never, customer_id: "a", amount: 5 },
        { _id: 2 as never, customer_id: "b", amount: 3 },
      ]);
      await orders.deleteMany({});
      await orders.insertOne({ _id: 1 as never, customer_id: "a", amount: 7 });
      await eventually(async () => await topicSize(s.topic) >= 5, 30_000);
      await orderstatsOk(["--mode=bootstrap", ...stackFlags(s), "--bad-records-file=/dev/null"]);
      // A new consumer group reads the topic from its start, old tombstones included.
      worker = startWorker(s, FLATTENED);
      await orders.insertOne({ _id: 3 as never, customer_id: "b", amount: 2 });
      await assertConverges(s, orders);
      await new Promise((r) => setTimeout(r, 2000));
      await assertConverges(s, orders);
    } finally {
      await worker?.stop("SIGTERM");
    }
  },
});
