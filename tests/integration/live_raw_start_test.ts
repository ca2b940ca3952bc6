/**
 * Raw order JSON has no position: a new consumer group must start where the handoff says,
 * not replay history from before the bootstrap into the totals.
 */
import assert from "node:assert/strict";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  type LiveWorker,
  mongoCollection,
  orderstats,
  orderstatsOk,
  scenario,
  stackFlags,
} from "../../devstack/lib/scenario.ts";
import { ddbClientConfig } from "../../devstack/lib/env.ts";
import { produce } from "../../devstack/lib/kafka.ts";
import { DynamoStore } from "../../src/state/dynamodb/store.ts";
import { assertTotals, LIVE_TEST_OPTIONS, prepare, startWorker } from "../support/live.ts";

const RAW = ["--cdc-format=raw"];
const raw = (id: number, customer: string, amount: number) => ({
  key: String(id),
  value: JSON.stringify({ _id: id, customer_id: customer, amount }),
});

Deno.test({
  name: "raw JSON: a new consumer group starts at the topic offsets the bootstrap recorded",
  ...LIVE_TEST_OPTIONS,
  fn: async () => {
    const s = scenario("rawstart");
    await using mongo = await mongoCollection(s);
    await prepare(s, 2);
    // History: order 2 was later deleted in MongoDB, which raw JSON cannot say.
    await produce(s.topic, [raw(1, "a", 4), raw(2, "a", 3), raw(1, "a", 5)]);
    await mongo.orders.insertOne({ _id: 1 as never, customer_id: "a", amount: 5 });
    await orderstatsOk([
      "--mode=bootstrap",
      ...stackFlags(s),
      ...RAW,
      "--bad-records-file=/dev/null",
    ]);

    const client = new DynamoDBClient(ddbClientConfig());
    const handoff = await new DynamoStore({ client, table: s.table }).readHandoff(s.pipeline);
    client.destroy();
    assert.equal(handoff?.topic, s.topic);
    const recorded = [...handoff!.topicOffsets!.values()].reduce((a, b) => a + b, 0n);
    assert.equal(recorded, 3n, "end offsets of both partitions sum to the 3 messages");

    let worker: LiveWorker | undefined;
    try {
      worker = startWorker(s, RAW);
      await produce(s.topic, [raw(3, "a", 1)]);
      await assertTotals(s, () => Promise.resolve(new Map([["a", 6n]])));
      const metrics = await worker.metrics();
      assert.equal(metrics.get("orderstats_skipped_before_handoff_total"), 3);
    } finally {
      await worker?.stop("SIGTERM");
    }
  },
});

Deno.test("raw JSON without handoff offsets: a new group is refused unless --replay-before-handoff", async () => {
  const s = scenario("rawrefuse");
  await prepare(s, 1);
  await produce(s.topic, [raw(1, "a", 4)]);
  // Bootstrapped as if for Debezium: no topic offsets in the handoff row.
  await orderstatsOk(["--mode=bootstrap", ...stackFlags(s), "--bad-records-file=/dev/null"]);
  const live = ["--mode=live", ...stackFlags(s), ...RAW, "--http-port=18098"];
  // A live worker that does not refuse runs until killed: 60 s is plenty to refuse.
  const refused = await orderstats(live, undefined, AbortSignal.timeout(60_000));
  assert.equal(refused.code, 4, refused.stderr);
  assert.match(refused.stderr, /raw order JSON: no deletes .* no position/);
  assert.match(refused.stderr, /--replay-before-handoff/);

  const worker = startWorker(s, [...RAW, "--replay-before-handoff"]);
  try {
    await assertTotals(s, () => Promise.resolve(new Map([["a", 4n]])));
  } finally {
    await worker.stop("SIGTERM");
  }
});
