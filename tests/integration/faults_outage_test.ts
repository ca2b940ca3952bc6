/**
 * Live mode through infrastructure outages, on private instances (the shared stack is never
 * stopped): the Kafka broker stopped for 20 s mid-stream, DynamoDB frozen for 30 s
 * mid-stream. The worker must wait, recover by itself without exiting, say not ready while
 * it cannot write, and end with totals equal to MongoDB's `$group`.
 */
import assert from "node:assert/strict";
import type { Collection } from "mongodb";
import {
  brokerOutage,
  describeFigures,
  eventsSeen,
  type FaultFigures,
  storeFreeze,
} from "../../devstack/lib/faults.ts";
import {
  pointStackAt,
  privateDynamodb,
  privateKafka,
} from "../../devstack/lib/private_services.ts";
import { eventually, orderstatsOk, stackFlags } from "../../devstack/lib/scenario.ts";
import { applyRandomChanges, rng, seedOrders } from "../../devstack/lib/workload.ts";
import { delay } from "../../devstack/lib/wait.ts";
import {
  assertConverges,
  LIVE_TEST_OPTIONS,
  relayedScenario,
  startWorker,
} from "../support/live.ts";

const CUSTOMERS = 30;
const ID_SPACE = 600;
// The relay rides out the outage as Kafka Connect would: it retries its sends.
const RELAY_RETRY = { retry: { retries: 60, initialRetryTime: 300, maxRetryTime: 2_000 } };

/** Writes random changes, a few at a time, until `signal` aborts. */
async function keepWriting(orders: Collection, random: () => number, signal: AbortSignal) {
  while (!signal.aborted) {
    await applyRandomChanges(orders, 5, { idSpace: ID_SPACE, customers: CUSTOMERS, random });
    await delay(50);
  }
}

/** Seeds, bootstraps, starts a worker and writes while `fault` runs; then checks totals. */
async function runFault(
  prefix: string,
  fault: (worker: ReturnType<typeof startWorker>) => Promise<FaultFigures>,
): Promise<void> {
  const random = rng(prefix.length);
  await using scene = await relayedScenario(prefix, 3, [], RELAY_RETRY);
  const { s, orders } = scene;
  await orders.insertMany(seedOrders(300, CUSTOMERS, random));
  await orderstatsOk(["--mode=bootstrap", ...stackFlags(s), "--bad-records-file=/dev/null"]);
  const worker = startWorker(s, ["--kafka-session-timeout-ms=10000"]);
  const writing = new AbortController();
  const writes = keepWriting(orders, random, writing.signal);
  try {
    assert.ok(await eventually(async () => (await eventsSeen(worker)) > 0), "applied nothing");
    const figures = await fault(worker);
    console.log(describeFigures(figures));
    assert.equal(figures.workerExited, false, "the worker exited during the fault");
    await delay(2_000);
    writing.abort();
    await writes;
    await assertConverges(s, orders);
    console.log(`${figures.fault}: mismatches: 0`);
  } finally {
    writing.abort();
    await writes.catch(() => {});
    await worker.stop("SIGTERM");
  }
}

Deno.test({
  name: "the broker stopped for 20 s mid-stream: the worker waits, resumes, stays exact",
  ...LIVE_TEST_OPTIONS,
  fn: async () => {
    await using broker = await privateKafka("outage");
    using _stack = pointStackAt({ kafka: broker });
    await runFault("broker_outage", (worker) => brokerOutage(broker, worker));
  },
});

Deno.test({
  name: "DynamoDB frozen for 30 s mid-stream: not ready meanwhile, resumes by itself, exact",
  ...LIVE_TEST_OPTIONS,
  fn: async () => {
    await using store = await privateDynamodb("outage");
    using _stack = pointStackAt({ dynamodb: store });
    await runFault("store_freeze", async (worker) => {
      const figures = await storeFreeze(store, worker);
      assert.notEqual(
        figures.notReadyAfterSeconds,
        undefined,
        "/readyz said 200 all the time DynamoDB was frozen",
      );
      return figures;
    });
  },
});
