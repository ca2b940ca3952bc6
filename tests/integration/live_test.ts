/**
 * `--mode=live` end to end, the way production runs: MongoDB writes → change stream →
 * Debezium-format events on Kafka (the dev relay stands in for Debezium) → orderstats
 * live → DynamoDB; the bar is MongoDB's own `$group` over the collection.
 */
import assert from "node:assert/strict";
import { type LiveWorker, orderstatsOk, stackFlags } from "../../devstack/lib/scenario.ts";
import {
  assertConverges,
  LIVE_TEST_OPTIONS,
  relayedScenario,
  startWorker,
} from "../support/live.ts";
import { produce, readTopic, topicSize } from "../../devstack/lib/kafka.ts";
import { applyRandomChanges, rng, seedOrders } from "../../devstack/lib/workload.ts";

Deno.test({
  name:
    "live keeps totals equal to $group across updates, deletes, duplicates and writes during bootstrap",
  ...LIVE_TEST_OPTIONS,
  fn: async () => {
    const random = rng(1);
    await using scene = await relayedScenario("live");
    const { s, orders } = scene;
    let worker: LiveWorker | undefined;
    try {
      // Before the handoff: these events are in Kafka and must be skipped, not re-added.
      await orders.insertMany(seedOrders(1500, 40, random));
      await applyRandomChanges(orders, 100, { idSpace: 1600, customers: 40, random });

      // Writes keep coming while bootstrap scans.
      let scanning = true;
      const during = (async () => {
        let steps = 0;
        while (scanning) {
          await applyRandomChanges(orders, 10, { idSpace: 1600, customers: 40, random });
          steps += 10;
        }
        return steps;
      })();
      await orderstatsOk(["--mode=bootstrap", ...stackFlags(s), "--bad-records-file=/dev/null"]);
      scanning = false;
      assert.ok((await during) > 0, "no write happened during the bootstrap scan");

      worker = startWorker(s);
      const stats = await applyRandomChanges(orders, 400, { idSpace: 1600, customers: 40, random });
      for (const [kind, n] of Object.entries(stats)) assert.ok(n > 0, `workload made no ${kind}`);
      await assertConverges(s, orders);

      // Redeliver every order's older events, without the newest that followed them (what
      // a consumer sees mid-way through a Debezium replay): totals must not move back.
      const everything = await readTopic(s.topic, await topicSize(s.topic));
      const newest = new Map(everything.map((m, i) => [m.key?.toString(), i]));
      const older = everything.filter((m, i) =>
        m.value !== null && newest.get(m.key?.toString()) !== i
      );
      assert.ok(older.length > 200, `only ${older.length} messages to redeliver`);
      await produce(s.topic, older.map((m) => ({ key: m.key, value: m.value })));
      await new Promise((r) => setTimeout(r, 3000));
      await assertConverges(s, orders);
      await applyRandomChanges(orders, 50, { idSpace: 1600, customers: 40, random });
      await assertConverges(s, orders);

      const { code, seconds } = await worker.stop("SIGTERM");
      worker = undefined;
      assert.equal(code, 0, "SIGTERM must end live mode with exit code 0");
      assert.ok(seconds < 10, `SIGTERM took ${seconds}s`);
    } finally {
      await worker?.stop("SIGKILL");
    }
  },
});
