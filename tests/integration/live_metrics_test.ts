/**
 * `/metrics` and the logs of a live worker, read over real HTTP and from its stderr: every
 * series from the start, process metrics and build info, lag kept fresh while the worker
 * waits, counters moving with events, and a rebalance logged as info, never as an error.
 */
import assert from "node:assert/strict";
import {
  eventually,
  type LiveWorker,
  orderstatsOk,
  scenario,
  stackFlags,
} from "../../devstack/lib/scenario.ts";
import { LIVE_TEST_OPTIONS, prepare, startWorker, sumSeries } from "../support/live.ts";
import { produce } from "../../devstack/lib/kafka.ts";
import { VERSION } from "../../src/util/build.ts";

/** The worker's metrics once its HTTP server answers. */
async function firstMetrics(worker: LiveWorker): Promise<Map<string, number>> {
  let metrics = new Map<string, number>();
  const up = await eventually(async () => {
    try {
      metrics = await worker.metrics();
      return true;
    } catch {
      return false;
    }
  }, 30_000);
  assert.ok(up, "the worker's /metrics never answered");
  return metrics;
}

Deno.test({
  name: "/metrics has every series from the start, fresh lag, and rebalances logged as info",
  ...LIVE_TEST_OPTIONS,
  fn: async () => {
    const s = scenario("metrics");
    await prepare(s, 2);
    const orders = Array.from({ length: 6 }, (_, i) => ({
      key: String(i),
      value: `{"_id": ${i}, "customer_id": "c${i % 2}", "amount": ${i + 1}}`,
    }));
    await produce(s.topic, orders);
    const workers: LiveWorker[] = [];
    try {
      // No handoff yet: the worker waits, and already reports.
      const a = startWorker(s, ["--cdc-format=raw", "--replay-before-handoff"], {
        captureStderr: true,
      });
      workers.push(a);
      const start = await firstMetrics(a);
      const zeros = [
        'orderstats_events_total{outcome="upsert"}',
        'orderstats_events_total{outcome="delete"}',
        'orderstats_events_total{outcome="tombstone"}',
        "orderstats_skipped_before_handoff_total",
        "orderstats_stale_changes_total",
        "orderstats_already_applied_total",
        'orderstats_dead_lettered_total{reason="not_json"}',
        'orderstats_dead_lettered_total{reason="key_mismatch"}',
        "orderstats_ledger_conflicts_total",
        "orderstats_ledger_reads_total",
        "orderstats_ledger_guesses_total",
        'orderstats_transaction_items_total{outcome="committed"}',
        'orderstats_transaction_items_total{outcome="refused"}',
        "orderstats_rebalances_total",
        "orderstats_retries_total",
        "orderstats_dynamodb_throttles_total",
        "orderstats_batch_seconds_count",
      ];
      for (const name of zeros) assert.equal(start.get(name), 0, `${name} at start`);
      assert.ok(start.get("process_resident_memory_bytes")! > 1e6);
      assert.ok(start.get("process_heap_bytes")! > 1e5);
      assert.ok(start.get("process_heap_total_bytes")! >= start.get("process_heap_bytes")!);
      assert.ok(start.get("process_external_memory_bytes")! > 0);
      assert.ok(start.get("process_cpu_seconds_total")! > 0);
      assert.ok(start.get("process_start_time_seconds")! > Date.now() / 1000 - 600);
      assert.ok(start.has("orderstats_event_loop_delay_seconds_count"));
      const build = [...start].find(([k]) => k.startsWith("orderstats_build_info{"));
      assert.ok(build?.[0].includes(`version="${VERSION}"`), String(build));
      assert.equal(build?.[1], 1);

      // Lag is read from the brokers while the worker still waits for the handoff.
      assert.ok(
        await eventually(
          async () => sumSeries(await a.metrics(), "orderstats_consumer_lag") === 6,
          30_000,
        ),
        "lag of the 6 waiting messages never showed",
      );
      assert.ok((await a.metrics()).get("orderstats_event_loop_delay_seconds_count")! > 0);

      await orderstatsOk(["--mode=bootstrap", ...stackFlags(s), "--bad-records-file=/dev/null"]);
      assert.ok(
        await eventually(async () => {
          const m = await a.metrics();
          return m.get('orderstats_events_total{outcome="upsert"}') === 6 &&
            sumSeries(m, "orderstats_consumer_lag") === 0 &&
            m.get("orderstats_batch_seconds_count")! > 0;
        }, 60_000),
        `events applied and lag back to 0: ${[...(await a.metrics())].join(" ")}`,
      );
      // Capacity counters: six new orders, each read once, written with its customer's total.
      const applied = await a.metrics();
      assert.equal(applied.get("orderstats_ledger_reads_total"), 6);
      assert.ok(applied.get('orderstats_transaction_items_total{outcome="committed"}')! >= 8);

      // A second worker in the group: the first rebalances.
      workers.push(startWorker(s, ["--cdc-format=raw", "--replay-before-handoff"]));
      assert.ok(
        await eventually(async () => (await a.metrics()).get("orderstats_rebalances_total")! >= 1),
        "no rebalance counted",
      );
    } finally {
      for (const worker of workers) await worker.stop("SIGTERM");
    }
    const lines = workers[0].stderr.split("\n").filter((l) => l !== "");
    const entries = lines.map((l) =>
      JSON.parse(l) as { level: string; msg: string; error?: string }
    );
    assert.deepEqual(entries.filter((e) => e.level === "error"), []);
    const rebalanceWarnings = entries.filter((e) =>
      e.level !== "info" && /rebalanc/.test(`${e.msg} ${e.error}`)
    );
    assert.deepEqual(rebalanceWarnings, [], "a rebalance is not a warning either");
    assert.ok(
      entries.some((e) => e.level === "info" && /rebalanc/.test(e.msg)),
      "the rebalance is logged at info",
    );
  },
});
