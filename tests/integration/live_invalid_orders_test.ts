/**
 * Live mode when a change makes an order invalid (amount removed, fractional or a string;
 * customer removed or null): like a bootstrap of the same document, the order counts for
 * nothing from that change on, the change is dead-lettered, and a later repair counts again.
 */
import assert from "node:assert/strict";
import { Double } from "mongodb";
import { type LiveWorker, orderstatsOk, stackFlags } from "../../devstack/lib/scenario.ts";
import {
  assertTotals,
  LIVE_TEST_OPTIONS,
  relayedScenario,
  startWorker,
  sumSeries,
} from "../support/live.ts";

Deno.test({
  name: "live retracts an order a change makes invalid, dead-letters it, and counts its repair",
  ...LIVE_TEST_OPTIONS,
  fn: async () => {
    await using scene = await relayedScenario("invalid", 1);
    const { s, orders } = scene;
    let worker: LiveWorker | undefined;
    try {
      await orders.insertMany([
        { _id: 1 as never, customer_id: "a", amount: 10 },
        { _id: 2 as never, customer_id: "a", amount: 20 },
        { _id: 3 as never, customer_id: "b", amount: 30 },
        { _id: 4 as never, customer_id: "b", amount: 40 },
        { _id: 5 as never, customer_id: "c", amount: 50 },
        { _id: 6 as never, customer_id: "c", amount: 60 },
      ]);
      await orderstatsOk(["--mode=bootstrap", ...stackFlags(s), "--bad-records-file=/dev/null"]);
      worker = startWorker(s);
      const id = (n: number) => ({ _id: n as never });
      await orders.updateOne(id(1), { $unset: { amount: "" } });
      await orders.updateOne(id(2), { $set: { amount: new Double(1.5) } });
      await orders.updateOne(id(3), { $set: { amount: "30" } });
      await orders.updateOne(id(4), { $unset: { customer_id: "" } });
      await orders.updateOne(id(5), { $set: { customer_id: null } });
      await orders.updateOne(id(6), { $set: { customer_id: "d" } });
      // Like a bootstrap of these documents: only orders 6 (now d's) counts.
      await assertTotals(s, () => Promise.resolve(new Map([["d", 60n]])));

      // Invalid orders carry nothing along when they move, and count again once repaired.
      await orders.updateOne(id(3), { $set: { customer_id: "e" } });
      await orders.updateOne(id(1), { $set: { amount: 7 } });
      await orders.updateOne(id(4), { $set: { customer_id: "e" } });
      await assertTotals(s, () => Promise.resolve(new Map([["a", 7n], ["d", 60n], ["e", 40n]])));

      const metrics = await worker.metrics();
      // Five changes made an order invalid, and the move of order 3 (amount still "30") too.
      assert.equal(sumSeries(metrics, "orderstats_dead_lettered_total"), 6);
    } finally {
      await worker?.stop("SIGTERM");
    }
  },
});
