/**
 * The demo's bar: orderstats' totals in DynamoDB against MongoDB's own
 * `$group: {_id: "$customer_id", total: {$sum: "$amount"}}`, waited for and printed.
 *
 * @module
 */
import type { Collection } from "mongodb";
import { mongoTotals, nonZero, type Scenario, storedTotals } from "../lib/scenario.ts";
import { consumerLag, scrape } from "./metrics.ts";
import { detail, grouped } from "./report.ts";

/** Both sides' totals (zero totals dropped, as `$group` has none) and where they differ. */
export interface Comparison {
  mongo: Map<string, bigint>;
  stored: Map<string, bigint>;
  /** Customers whose totals differ (a missing side is `undefined`). */
  differences: { customer: string; mongo?: bigint; stored?: bigint }[];
}

/** Reads both sides once. */
export async function compareTotals(orders: Collection, s: Scenario): Promise<Comparison> {
  const [mongo, stored] = await Promise.all([
    mongoTotals(orders).then(nonZero),
    storedTotals(s).then(nonZero),
  ]);
  const customers = new Set([...mongo.keys(), ...stored.keys()]);
  const differences = [...customers].sort()
    .filter((c) => mongo.get(c) !== stored.get(c))
    .map((customer) => ({ customer, mongo: mongo.get(customer), stored: stored.get(customer) }));
  return { mongo, stored, differences };
}

/** Options for {@link waitForMatch}. */
export interface WaitOptions {
  /** Live mode's HTTP port, for `/metrics`. */
  port: number;
  timeoutMs: number;
  /** Stops waiting early (live mode exited). */
  stopped: () => boolean;
}

/**
 * Polls every 2 s until DynamoDB equals `$group` on two reads in a row with no consumer lag, or the
 * timeout passes; prints the lag and the number of differing customers every few seconds.
 * Returns the last comparison.
 */
export async function waitForMatch(
  orders: Collection,
  s: Scenario,
  { port, timeoutMs, stopped }: WaitOptions,
): Promise<Comparison> {
  const deadline = Date.now() + timeoutMs;
  let lastPrint = Date.now();
  let matchedBefore = false;
  while (true) {
    const comparison = await compareTotals(orders, s);
    const lag = consumerLag(await scrape(port));
    // No lag reported yet is fine when nothing reached live mode (no changes at all).
    const matched = comparison.differences.length === 0 && !(lag !== undefined && lag > 0);
    if ((matched && matchedBefore) || Date.now() > deadline || stopped()) return comparison;
    matchedBefore = matched;
    if (Date.now() - lastPrint >= 5_000) {
      lastPrint = Date.now();
      detail(
        `waiting: consumer lag ${lag ?? "not reported yet"}, ` +
          `${comparison.differences.length} customers differ`,
      );
    }
    await new Promise((r) => setTimeout(r, 2_000));
  }
}

/** Prints the top `top` customers by total, both sides, then the counts and sums. */
export function printComparison({ mongo, stored }: Comparison, top = 10): void {
  const rows = [...mongo].sort(([a, x], [b, y]) => x === y ? (a < b ? -1 : 1) : x > y ? -1 : 1)
    .slice(0, top);
  const money = (v: bigint | undefined) => v === undefined ? "(none)" : grouped(v);
  const width = Math.max(24, ...rows.map(([, v]) => money(v).length));
  const line = (a: string, b: string, c: string, d: string) =>
    detail(`${a.padEnd(12)} ${b.padStart(width)}  ${c.padStart(width)}  ${d}`.trimEnd());
  line("customer", "MongoDB $group", "orderstats (DynamoDB)", "");
  for (const [customer, total] of rows) {
    const ours = stored.get(customer);
    line(customer, money(total), money(ours), ours === total ? "=" : "≠");
  }
  const sum = (m: Map<string, bigint>) => [...m.values()].reduce((a, b) => a + b, 0n);
  line(
    "customers",
    grouped(mongo.size),
    grouped(stored.size),
    mongo.size === stored.size ? "=" : "≠",
  );
  line("all orders", money(sum(mongo)), money(sum(stored)), sum(mongo) === sum(stored) ? "=" : "≠");
  detail("(amounts in cents; customers whose orders all went away have no $group row)");
}
