/**
 * Names of one demo run's resources. Every run gets fresh ones (`demo_<date>_<time>`), so a
 * run never meets a previous run's topic offsets, consumer group or handoff row; the next
 * run removes them (see cleanup.ts).
 *
 * @module
 */
import type { Scenario } from "../lib/scenario.ts";

/** What every demo resource name starts with; cleanup.ts removes what matches it. */
export const DEMO_PREFIX = "demo_";

/**
 * The database, table, topic and consumer group of a run started at `now`.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * const s = demoScenario(new Date("2026-11-24T06:45:12Z"));
 * equal(s.db, "demo_20261124_064512");
 * equal(s.topic, "demo_20261124_064512.orders");
 * ```
 */
export function demoScenario(now: Date = new Date()): Scenario {
  const stamp = now.toISOString().slice(0, 19).replace("T", "_").replaceAll(/[-:]/g, "");
  const id = `${DEMO_PREFIX}${stamp}`;
  return {
    db: id,
    collection: "orders",
    table: id,
    // Debezium names its topics <topic.prefix>.<db>.<collection>; the relay takes any name.
    topic: `${id}.orders`,
    group: id,
    pipeline: "order_totals",
  };
}
