/**
 * Reading live mode's HTTP endpoints: `/readyz`, and `/metrics` (Prometheus text) for the
 * consumer lag while waiting and what happened to the CDC messages at the end.
 *
 * @module
 */

/** True when live mode answers `/readyz` with 200 (handoff read, consumer group joined). */
export async function isReady(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`);
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/** The metric samples (`name{labels} value` lines), or `undefined` when not reachable. */
export async function scrape(port: number): Promise<string[] | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    if (!response.ok) {
      await response.body?.cancel();
      return undefined;
    }
    return (await response.text()).split("\n").filter((line) => line && !line.startsWith("#"));
  } catch {
    return undefined;
  }
}

/**
 * Sum of `orderstats_consumer_lag` over partitions, or `undefined` before the first batch.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(consumerLag(['orderstats_consumer_lag{partition="0"} 2', "x 1"]), 2);
 * equal(consumerLag([]), undefined);
 * ```
 */
export function consumerLag(samples: string[] | undefined): number | undefined {
  const values = (samples ?? [])
    .filter((line) => line.startsWith("orderstats_consumer_lag"))
    .map((line) => Number(line.slice(line.lastIndexOf(" ") + 1)));
  return values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0);
}

const OUTCOMES = [
  "orderstats_events_total",
  "orderstats_skipped_before_handoff_total",
  "orderstats_stale_changes_total",
  "orderstats_dead_lettered_total",
];

/** The samples that say what live mode did with each message. */
export function outcomeSamples(samples: string[] | undefined): string[] {
  return (samples ?? []).filter((line) => OUTCOMES.some((name) => line.startsWith(name)));
}
