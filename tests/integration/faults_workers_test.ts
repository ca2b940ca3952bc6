/**
 * The fault suite's rebalances (issue 9), CI-sized: a second and a third worker join the
 * consumer group mid-stream and leave again (SIGTERM, then kill -9), while a hot customer
 * that every partition writes to makes transactions contend. Each joining worker must get
 * partitions and apply events (the step fails otherwise), `orderstats_ledger_busy_total` must
 * be exposed, and the totals end with 0 mismatched customers.
 */
import assert from "node:assert/strict";
import { formatFigures } from "../../devstack/lib/faults.ts";
import { runWorkersJoinLeave } from "../../devstack/lib/infra_faults.ts";
import { LIVE_TEST_OPTIONS } from "../support/live.ts";

Deno.test({
  name: "faults: workers 2 and 3 join and leave mid-stream with a hot customer, totals exact",
  ...LIVE_TEST_OPTIONS,
  fn: async () => {
    const figures = await runWorkersJoinLeave({
      seed: 31,
      orders: 400,
      events: 700,
      ratePerSecond: 25,
    });
    console.log(formatFigures(figures));
    assert.equal(figures.workerExited, false, `the first worker exited: ${formatFigures(figures)}`);
    assert.equal(figures.totals.mismatched, 0, formatFigures(figures));
  },
});
