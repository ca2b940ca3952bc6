/**
 * The check that ends every fault run: each customer's total in DynamoDB against MongoDB's
 * `$group`, reported as a count of mismatched customers and the first few differences.
 *
 * @module
 */
import type { Collection } from "mongodb";
import { mongoTotals, nonZero, type Scenario, storedTotals } from "./scenario.ts";

/** The outcome of one comparison. */
export interface TotalsCheck {
  /** Customers with a non-zero total on either side. */
  customers: number;
  /** Customers whose stored total differs from `$group`'s (missing counts as 0). */
  mismatched: number;
  /** The first few differences, `customer: mongo <a>, stored <b>`. */
  first: string[];
}

const SHOWN = 5;

/** Compares every customer's stored total with MongoDB's `$group` once. */
export async function checkTotals(s: Scenario, orders: Collection): Promise<TotalsCheck> {
  const want = nonZero(await mongoTotals(orders));
  const have = nonZero(await storedTotals(s));
  const customers = [...new Set([...want.keys(), ...have.keys()])].sort();
  const diffs = customers.filter((c) => (want.get(c) ?? 0n) !== (have.get(c) ?? 0n));
  return {
    customers: customers.length,
    mismatched: diffs.length,
    first: diffs.slice(0, SHOWN).map((c) =>
      `${c}: mongo ${want.get(c) ?? 0n}, stored ${have.get(c) ?? 0n}`
    ),
  };
}

/** Polls {@link checkTotals} until nothing mismatches or `timeoutMs` passes; returns the last. */
export async function waitForTotals(
  s: Scenario,
  orders: Collection,
  timeoutMs = 90_000,
): Promise<TotalsCheck> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const check = await checkTotals(s, orders);
    if (check.mismatched === 0 || Date.now() >= deadline) return check;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** One line: `mismatched 0/203 customers`, plus the first differences when there are some. */
export function formatTotals(check: TotalsCheck): string {
  const line = `mismatched ${check.mismatched}/${check.customers} customers`;
  return check.first.length ? `${line} (first: ${check.first.join("; ")})` : line;
}
