/**
 * The fault suite's SIGTERMs (issue 9): in the middle of a batch, and while the consumer
 * group is still forming after a crash (a worker restarted after kill -9 waits in the join
 * for the dead member's 30 s session). Each must exit 0 within 10 s, and the restarted
 * worker leaves nothing lost or doubled: 0 mismatched customers. Prints the figures lines.
 */
import assert from "node:assert/strict";
import {
  type Fault,
  formatFigures,
  openStage,
  runFault,
  sigtermMidBatch,
  sigtermWhileForming,
  startStageWorker,
} from "../../devstack/lib/faults.ts";
import { orderstatsOk, stackFlags } from "../../devstack/lib/scenario.ts";
import { LIVE_TEST_OPTIONS } from "../support/live.ts";

/** Runs `fault` on a fresh bootstrapped stage with a live worker; asserts and prints figures. */
async function proveUnder(fault: Fault, seed: number) {
  await using stage = await openStage({
    prefix: "sigterm",
    workload: { seed, customers: 30, hotCustomers: 2, hotShare: 0.3, idSpace: 1_000 },
    duplicateShare: 0.1,
    workerFlags: ["--kafka-session-timeout-ms=6000"],
  });
  await stage.workload.seed(500);
  await orderstatsOk(["--mode=bootstrap", ...stackFlags(stage.s), "--bad-records-file=/dev/null"]);
  stage.worker = startStageWorker(stage);
  const figures = await runFault(stage, fault, { events: 600 });
  console.log(formatFigures(figures));
  assert.equal(figures.totals.mismatched, 0, formatFigures(figures));
  assert.ok(figures.exitSeconds! < 10, formatFigures(figures));
  return figures;
}

Deno.test({
  name: "faults: SIGTERM in the middle of a batch exits 0 within 10 s, nothing lost or doubled",
  ...LIVE_TEST_OPTIONS,
  fn: async () => {
    const figures = await proveUnder(sigtermMidBatch(), 21);
    assert.match(figures.detail!, /inside its first batch/);
  },
});

Deno.test({
  name: "faults: SIGTERM while the group forms after a crash exits 0 within 10 s",
  ...LIVE_TEST_OPTIONS,
  fn: async () => {
    await proveUnder(sigtermWhileForming(), 22);
  },
});
