/**
 * runAudit()'s settle rule, with in-memory stand-ins for both sides (the integration
 * tests in tests/integration/audit_test.ts run it against DynamoDB Local and MongoDB;
 * here time is what matters: a first pass slower than the bound).
 */
import assert from "node:assert/strict";
import { runAudit } from "../../src/runtimes/audit/run.ts";
import type { TotalRow } from "../../src/state/store.ts";

/** A store that takes `delayMs` per page, and a source whose total of `c1` is 5. */
function sides(stored: Map<string, bigint>, delayMs: number) {
  const store = {
    total: (_p: string, key: string): Promise<TotalRow | undefined> =>
      Promise.resolve(stored.has(key) ? { key, total: stored.get(key)! } : undefined),
    async totalsPage() {
      const rows = [...stored].map(([key, total]) => ({ key, total }));
      await new Promise((r) => setTimeout(r, delayMs)); // a slow scan of a big table
      return { rows };
    },
  };
  const reference = {
    sums: () => Promise.resolve([{ id: "c1", total: "5" }]),
    keyOf: (id: unknown) => String(id),
    describe: String,
    rejectedOrders: () => Promise.resolve([]),
  };
  return { store, reference };
}

Deno.test("runAudit() re-reads a difference even when the first pass outlasts the bound", async () => {
  const stored = new Map([["c1", 4n]]);
  const { store, reference } = sides(stored, 300);
  // Live applies the missing change while the audit reads the totals.
  setTimeout(() => stored.set("c1", 5n), 100);
  const summary = await runAudit({
    pipeline: "p",
    store,
    reference,
    readsPerSecond: 1000,
    settleMs: 200,
  });
  assert.equal(summary.drifted, 0);
  assert.equal(summary.settledOnRecheck, 1);
  assert.equal(summary.recheckRounds, 1);
});

Deno.test("runAudit() reports a difference that persists past the bound, with both figures", async () => {
  const { store, reference } = sides(new Map([["c1", 9n]]), 0);
  const summary = await runAudit({
    pipeline: "p",
    store,
    reference,
    readsPerSecond: 1000,
    settleMs: 1200,
  });
  assert.equal(summary.drifted, 1);
  assert.deepEqual(summary.drift, [
    { customer: "c1", dynamodb: "9", mongodb: "5", rejectedOrders: [] },
  ]);
  assert.ok(summary.recheckRounds >= 2, `${summary.recheckRounds} rounds`);
});
