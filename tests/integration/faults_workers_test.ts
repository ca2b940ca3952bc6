/**
 * The fault suite's rebalances (issue 9), CI-sized: a second and a third worker join the
 * consumer group mid-stream and leave again (SIGTERM, then kill -9), while a hot customer
 * that every partition writes to makes transactions conflict. Each joining worker must get
 * partitions and apply events; the totals end with 0 mismatched customers.
 */
import assert from "node:assert/strict";
import { formatFigures, openStage, runFault, startStageWorker } from "../../devstack/lib/faults.ts";
import { workersJoinLeave } from "../../devstack/lib/infra_faults.ts";
import { orderstatsOk, stackFlags } from "../../devstack/lib/scenario.ts";
import { LIVE_TEST_OPTIONS } from "../support/live.ts";

Deno.test({
  name: "faults: workers 2 and 3 join and leave mid-stream with a hot customer, totals exact",
  ...LIVE_TEST_OPTIONS,
  fn: async () => {
    await using stage = await openStage({
      prefix: "rebalance",
      // One very hot customer: half of all changes, spread over every partition.
      workload: { seed: 31, customers: 40, hotCustomers: 1, hotShare: 0.5, idSpace: 1_500 },
      duplicateShare: 0.1,
      workerFlags: ["--kafka-session-timeout-ms=6000"],
    });
    await stage.workload.seed(400);
    await orderstatsOk([
      "--mode=bootstrap",
      ...stackFlags(stage.s),
      "--bad-records-file=/dev/null",
    ]);
    stage.worker = startStageWorker(stage);
    const figures = await runFault(stage, workersJoinLeave(3), {
      events: 1_500,
      ratePerSecond: 40,
    });
    console.log(formatFigures(figures));
    assert.equal(figures.workerExited, false, `the first worker exited:\n${stage.worker.stderr}`);
    assert.equal(figures.totals.mismatched, 0, formatFigures(figures));
  },
});
