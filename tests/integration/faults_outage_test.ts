/**
 * The fault suite's infrastructure outages (issue 9), CI-sized, on private instances (the
 * shared stack is never stopped): the Kafka broker stopped for 20 s mid-stream, DynamoDB
 * frozen for 30 s mid-stream, under the seeded fault workload with a share of CDC records
 * delivered twice. The worker must recover by itself without exiting (and say not ready
 * while it cannot write); each ends with 0 mismatched customers and prints its figures line.
 */
import assert from "node:assert/strict";
import {
  type Fault,
  formatFigures,
  openStage,
  runFault,
  startStageWorker,
} from "../../devstack/lib/faults.ts";
import { brokerOutage, storeFreeze } from "../../devstack/lib/infra_faults.ts";
import {
  pointStackAt,
  privateDynamodb,
  privateKafka,
} from "../../devstack/lib/private_services.ts";
import { orderstatsOk, stackFlags } from "../../devstack/lib/scenario.ts";
import { LIVE_TEST_OPTIONS } from "../support/live.ts";

const WORKLOAD = { customers: 40, hotCustomers: 2, hotShare: 0.3, idSpace: 1_500 };
// The relay rides out a broker outage as Kafka Connect would: it keeps retrying its sends.
const RELAY_RETRY = { retry: { retries: 60, initialRetryTime: 300, maxRetryTime: 2_000 } };

/** Bootstraps a fresh stage, runs `fault` while the workload writes, asserts the figures. */
async function proveThrough(fault: Fault, seed: number): Promise<void> {
  await using stage = await openStage({
    prefix: "outage",
    workload: { seed, ...WORKLOAD },
    duplicateShare: 0.1,
    workerFlags: ["--kafka-session-timeout-ms=10000"],
    relay: RELAY_RETRY,
  });
  await stage.workload.seed(400);
  await orderstatsOk(["--mode=bootstrap", ...stackFlags(stage.s), "--bad-records-file=/dev/null"]);
  stage.worker = startStageWorker(stage);
  // Spread over 20 s or more: changes keep coming while the fault strikes.
  const figures = await runFault(stage, fault, { events: 600, ratePerSecond: 30 });
  console.log(formatFigures(figures));
  assert.equal(figures.workerExited, false, `the worker exited:\n${stage.worker.stderr}`);
  assert.equal(figures.totals.mismatched, 0, formatFigures(figures));
}

Deno.test({
  name: "faults: the broker stopped for 20 s mid-stream; the worker resumes, totals exact",
  ...LIVE_TEST_OPTIONS,
  fn: async () => {
    await using broker = await privateKafka("outage");
    using _stack = pointStackAt({ kafka: broker });
    await proveThrough(brokerOutage(broker), 21);
  },
});

Deno.test({
  name: "faults: DynamoDB frozen for 30 s mid-stream; /readyz 503 meanwhile, resumes, exact",
  ...LIVE_TEST_OPTIONS,
  fn: async () => {
    await using store = await privateDynamodb("outage");
    using _stack = pointStackAt({ dynamodb: store });
    await proveThrough(storeFreeze(store), 22);
  },
});
