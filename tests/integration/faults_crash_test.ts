/**
 * The fault suite's crashes (issue 9), CI-sized: kill -9 of the live worker 20 times in one
 * stream, and kill -9 of the bootstrap mid-scan then a re-run, each under the seeded fault
 * workload with a share of CDC records delivered twice. Each ends with 0 mismatched customers
 * and prints its figures line. `deno task soak` runs the same faults at scale.
 */
import assert from "node:assert/strict";
import {
  bootstrapKill,
  type Fault,
  formatFigures,
  liveKills,
  openStage,
  runFault,
  startStageWorker,
} from "../../devstack/lib/faults.ts";
import { orderstatsOk, stackFlags } from "../../devstack/lib/scenario.ts";
import { LIVE_TEST_OPTIONS } from "../support/live.ts";

// A killed worker keeps its partitions until its session times out; the broker's minimum.
const FAST_REBALANCE = ["--kafka-session-timeout-ms=6000"];
const WORKLOAD = { customers: 40, hotCustomers: 2, hotShare: 0.3, idSpace: 1_500 };

/** Runs one fault on a fresh stage seeded with `orders`, asserts exact totals, prints figures. */
async function proveUnder(
  fault: Fault,
  { seed, orders, events, bootstrap }: {
    seed: number;
    orders: number;
    events: number;
    bootstrap: boolean;
  },
) {
  await using stage = await openStage({
    prefix: "faults",
    workload: { seed, ...WORKLOAD },
    duplicateShare: 0.1,
    workerFlags: FAST_REBALANCE,
  });
  await stage.workload.seed(orders);
  if (bootstrap) {
    await orderstatsOk([
      "--mode=bootstrap",
      ...stackFlags(stage.s),
      "--bad-records-file=/dev/null",
    ]);
    stage.worker = startStageWorker(stage);
  }
  const figures = await runFault(stage, fault, { events });
  console.log(formatFigures(figures));
  assert.equal(figures.totals.mismatched, 0, formatFigures(figures));
  assert.ok(figures.duplicated > 0, "the relay delivered no record twice");
  return figures;
}

Deno.test({
  name: "faults: kill -9 of the live worker 20 times in one stream, then exact totals",
  ...LIVE_TEST_OPTIONS,
  fn: async () => {
    const figures = await proveUnder(liveKills(20), {
      seed: 9,
      orders: 800,
      events: 1_000,
      bootstrap: true,
    });
    assert.equal(figures.kills, 20);
  },
});

Deno.test({
  name: "faults: kill -9 of the bootstrap mid-scan, a re-run after its lease, then live is exact",
  ...LIVE_TEST_OPTIONS,
  fn: async () => {
    await proveUnder(bootstrapKill(), { seed: 10, orders: 2_500, events: 600, bootstrap: false });
  },
});
