/**
 * Live mode under faults: workers killed with SIGKILL mid-stream and restarted, and two
 * workers sharing one consumer group. Totals must still equal MongoDB's `$group`.
 */
import assert from "node:assert/strict";
import {
  eventually,
  type LiveWorker,
  orderstatsOk,
  stackFlags,
} from "../../devstack/lib/scenario.ts";
import {
  assertConverges,
  LIVE_TEST_OPTIONS,
  relayedScenario,
  startWorker,
} from "../support/live.ts";
import { applyRandomChanges, rng, seedOrders } from "../../devstack/lib/workload.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// A killed worker keeps its partitions until its session times out; keep that short here.
const FAST_REBALANCE = ["--kafka-session-timeout-ms=6000"];

/** CDC messages a worker has applied or skipped so far, from its /metrics. */
async function applied(worker: LiveWorker): Promise<number> {
  const metrics = await worker.metrics().catch(() => new Map<string, number>());
  return [...metrics].filter(([k]) => k.startsWith("orderstats_events_total"))
    .reduce((n, [, v]) => n + v, 0);
}

Deno.test({
  name: "live survives kill -9 mid-stream, twice, with exact totals after restart",
  ...LIVE_TEST_OPTIONS,
  fn: async () => {
    const random = rng(7);
    await using scene = await relayedScenario("crash");
    const { s, orders } = scene;
    const workers: LiveWorker[] = [];
    let writes: Promise<unknown> | undefined;
    try {
      await orders.insertMany(seedOrders(500, 25, random));
      await orderstatsOk(["--mode=bootstrap", ...stackFlags(s), "--bad-records-file=/dev/null"]);
      workers.push(startWorker(s, FAST_REBALANCE));
      writes = applyRandomChanges(orders, 900, { idSpace: 600, customers: 25, random });
      for (let kill = 0; kill < 2; kill++) {
        const worker = workers.at(-1)!;
        assert.ok(
          await eventually(async () => (await applied(worker)) > 0),
          "worker applied nothing",
        );
        await sleep(500 + random() * 1000);
        const { code } = await worker.stop("SIGKILL");
        assert.equal(code, 137, "the worker was killed, not stopped");
        workers.push(startWorker(s, FAST_REBALANCE));
      }
      await writes;
      await assertConverges(s, orders);
    } finally {
      await writes?.catch(() => {});
      for (const w of workers) await w.stop("SIGKILL");
    }
  },
});

Deno.test({
  name: "two workers in one group split a 3-partition topic and stay exact",
  ...LIVE_TEST_OPTIONS,
  fn: async () => {
    const random = rng(11);
    await using scene = await relayedScenario("group");
    const { s, orders } = scene;
    const workers: LiveWorker[] = [];
    try {
      await orders.insertMany(seedOrders(300, 20, random));
      await orderstatsOk(["--mode=bootstrap", ...stackFlags(s), "--bad-records-file=/dev/null"]);
      workers.push(startWorker(s), startWorker(s));
      await applyRandomChanges(orders, 500, { idSpace: 400, customers: 20, random });
      await assertConverges(s, orders);
      for (const [i, worker] of workers.entries()) {
        assert.ok(
          (await applied(worker)) > 0,
          `worker ${i} consumed nothing: the group did not split the topic`,
        );
      }
    } finally {
      for (const w of workers) await w.stop("SIGTERM");
    }
  },
});
