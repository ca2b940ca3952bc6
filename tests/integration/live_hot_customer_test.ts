/**
 * A hot customer: three workers in one group on a 6-partition topic, one customer in half
 * of all changes, so every worker's transactions update that customer's total at once.
 * No worker may crash, totals must equal MongoDB's `$group`, and contention must show on
 * `/metrics` (conflicts and busy transactions by reason) rather than anywhere else.
 */
import assert from "node:assert/strict";
import type { Document } from "mongodb";
import { type LiveWorker, orderstatsOk, stackFlags } from "../../devstack/lib/scenario.ts";
import {
  assertConverges,
  assertGroupSplit,
  LIVE_TEST_OPTIONS,
  relayedScenario,
  startWorker,
} from "../support/live.ts";
import { applyRandomChanges, rng } from "../../devstack/lib/workload.ts";

const HOT = "c0";
const PARTITIONS = 6;

Deno.test({
  name: "three workers, one customer in half the changes: no crash, exact, contention counted",
  ...LIVE_TEST_OPTIONS,
  fn: async () => {
    const random = rng(23);
    await using scene = await relayedScenario("hot", PARTITIONS);
    const { s, orders } = scene;
    const workers: LiveWorker[] = [];
    try {
      await orderstatsOk(["--mode=bootstrap", ...stackFlags(s), "--bad-records-file=/dev/null"]);
      // The group splits the topic before any change, so the three workers apply batches of
      // the hot customer together (a backlog written first could be drained by the first
      // worker to join, before the others get partitions).
      const capture = { captureStderr: true };
      const info = ["--log-level=info"]; // assertGroupSplit reads the join lines
      workers.push(
        startWorker(s, info, capture),
        startWorker(s, info, capture),
        startWorker(s, info, capture),
      );
      await assertGroupSplit(workers, PARTITIONS);
      await orders.insertMany(Array.from({ length: 600 }, (_, i): Document => ({
        _id: i,
        customer_id: i % 2 === 0 ? HOT : `c${1 + (i % 20)}`,
        amount: i + 1,
      })));
      await applyRandomChanges(orders, 250, {
        idSpace: 700,
        customers: 20,
        random,
        hotShare: 0.5,
      });
      await assertConverges(s, orders);

      let conflicts = 0;
      for (const [i, worker] of workers.entries()) {
        const metrics = await worker.metrics();
        const events = [...metrics].filter(([k]) => k.startsWith("orderstats_events_total"))
          .reduce((n, [, v]) => n + v, 0);
        assert.ok(events > 0, `worker ${i} consumed nothing: the group did not split the topic`);
        for (const reason of ["TransactionConflict", "ThrottlingError"]) {
          const series = `orderstats_ledger_busy_total{reason="${reason}"}`;
          assert.ok(metrics.has(series), `worker ${i} has no ${series}`);
        }
        conflicts += metrics.get("orderstats_ledger_conflicts_total")!;
        conflicts += metrics.get('orderstats_ledger_busy_total{reason="TransactionConflict"}')!;
      }
      console.log(`conflicts and busy transactions over the three workers: ${conflicts}`);
      for (const [i, worker] of workers.entries()) {
        assert.equal((await worker.stop("SIGTERM")).code, 0, `worker ${i} did not exit cleanly`);
      }
    } finally {
      for (const w of workers) await w.stop("SIGKILL");
    }
  },
});
