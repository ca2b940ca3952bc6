/**
 * Shared steps of the live-mode tests: tables and topics for a scenario, workers on
 * their own HTTP ports, and the convergence check against MongoDB's `$group`.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Collection } from "mongodb";
import {
  eventually,
  LiveWorker,
  mongoTotals,
  nextHttpPort,
  nonZero,
  orderstatsOk,
  type Scenario,
  stackFlags,
  storedTotals,
} from "../../devstack/lib/scenario.ts";

export { prepare, type RelayedScenario, relayedScenario } from "../../devstack/lib/relayed.ts";

/** Live tests spawn workers and kafkajs clients that outlive single awaits; each test cleans up itself. */
export const LIVE_TEST_OPTIONS = { sanitizeOps: false, sanitizeResources: false };

/** Starts a live worker for the scenario on a fresh HTTP port. */
export function startWorker(
  s: Scenario,
  extra: string[] = [],
  options: { captureStderr?: boolean } = {},
): LiveWorker {
  return new LiveWorker([...stackFlags(s), ...extra], nextHttpPort(), "live", options);
}

/** Bootstraps an empty collection, so live has a handoff row to start from. */
export async function emptyBootstrap(s: Scenario, extra: string[] = []): Promise<void> {
  await orderstatsOk([
    "--mode=bootstrap",
    ...stackFlags(s),
    "--bad-records-file=/dev/null",
    ...extra,
  ]);
}

/** A raw order message keyed by its `_id`, its JSON written by hand to keep big numbers exact. */
export function rawOrder(
  id: number,
  customer: string,
  amount: bigint | string,
): { key: string; value: string } {
  return {
    key: String(id),
    value: `{"_id": ${id}, "customer_id": "${customer}", "amount": ${amount}}`,
  };
}

/** Sum of a metric over its label sets, e.g. `orderstats_consumer_lag`. */
export function sumSeries(metrics: Map<string, number>, name: string): number {
  let total = 0;
  for (const [series, value] of metrics) {
    if (series === name || series.startsWith(`${name}{`)) total += value;
  }
  return total;
}

/** Waits until DynamoDB holds exactly `expected` (zero totals aside), else fails with the diff. */
export async function assertTotals(
  s: Scenario,
  expected: () => Promise<Map<string, bigint>>,
  timeoutMs = 90_000,
): Promise<void> {
  let want = new Map<string, bigint>();
  let actual = new Map<string, bigint>();
  const ok = await eventually(async () => {
    want = nonZero(await expected());
    actual = nonZero(await storedTotals(s));
    return actual.size === want.size && [...want].every(([k, v]) => actual.get(k) === v);
  }, timeoutMs);
  if (!ok) assert.deepEqual(actual, want);
}

/** Waits until DynamoDB's totals equal MongoDB's `$group` over the collection. */
export function assertConverges(s: Scenario, orders: Collection): Promise<void> {
  return assertTotals(s, () => mongoTotals(orders));
}

/**
 * The partitions (`topic:partition`) a worker started with `captureStderr` holds, from its
 * latest complete "joined consumer group" log line: KafkaJS logs every join, rebalances too.
 */
function heldPartitions(worker: LiveWorker): string[] {
  const lines = worker.stderr.split("\n").slice(0, -1); // the last one may be half-written
  const line = lines.findLast((l) => l.includes('"joined consumer group"'));
  if (!line) return [];
  const assignment: Record<string, number[]> = JSON.parse(line).assignment ?? {};
  return Object.entries(assignment).flatMap(([topic, ps]) => ps.map((p) => `${topic}:${p}`));
}

/**
 * Waits until every worker holds partitions and together they hold `partitions` distinct ones,
 * each once. The workers must log at info level (their join lines).
 */
export async function assertGroupSplit(workers: LiveWorker[], partitions: number): Promise<void> {
  const split = () => {
    const held = workers.map(heldPartitions);
    const all = held.flat();
    return held.every((h) => h.length > 0) && all.length === partitions &&
      new Set(all).size === partitions;
  };
  assert.ok(
    await eventually(() => Promise.resolve(split()), 90_000),
    `the group did not split ${partitions} partitions: ${
      JSON.stringify(workers.map(heldPartitions))
    }`,
  );
}
