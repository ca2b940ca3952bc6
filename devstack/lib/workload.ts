/**
 * Order workloads for the live tests, benchmarks and demo: a seeded PRNG and a random mix of
 * inserts, amount updates, customer reassignments, replacements and deletes, applied through
 * the MongoDB driver.
 *
 * @module
 */
import type { Collection, Document } from "mongodb";
import { Long } from "mongodb";

/** A small deterministic PRNG (mulberry32), so a failing run can be replayed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Counts of what a workload did. */
export interface WorkloadStats {
  inserts: number;
  amountUpdates: number;
  reassignments: number;
  replaces: number;
  deletes: number;
}

/** The initial orders: `_id` 0..n-1 over `customers` customers, int64 amounts. */
export function seedOrders(n: number, customers: number, random: () => number): Document[] {
  return Array.from({ length: n }, (_, i) => ({
    _id: i,
    customer_id: `c${Math.floor(random() * customers)}`,
    amount: Long.fromNumber(Math.floor(random() * 100_000)),
  }));
}

/** What {@link applyRandomChanges} draws from. */
export interface ChangeOptions {
  idSpace: number;
  customers: number;
  random: () => number;
  /** Share of customer picks that go to customer `c0` (a hot customer). @default 0 */
  hotShare?: number;
}

/**
 * Applies `steps` random changes to orders with `_id` in [0, idSpace). Deleted ids may
 * come back as inserts; every kind of change is exercised.
 */
export async function applyRandomChanges(
  orders: Collection,
  steps: number,
  { idSpace, customers, random, hotShare = 0 }: ChangeOptions,
): Promise<WorkloadStats> {
  const stats: WorkloadStats = {
    inserts: 0,
    amountUpdates: 0,
    reassignments: 0,
    replaces: 0,
    deletes: 0,
  };
  const customer = () => random() < hotShare ? "c0" : `c${Math.floor(random() * customers)}`;
  const amount = () => Long.fromNumber(Math.floor(random() * 100_000) - 10_000);
  for (let step = 0; step < steps; step++) {
    const _id = Math.floor(random() * idSpace) as never;
    const roll = random();
    if (roll < 0.3) {
      const r = await orders.updateOne({ _id }, { $set: { amount: amount() } });
      if (r.matchedCount === 0) {
        await orders.insertOne({ _id, customer_id: customer(), amount: amount() });
        stats.inserts++;
      } else stats.amountUpdates++;
    } else if (roll < 0.5) {
      const r = await orders.updateOne({ _id }, { $set: { customer_id: customer() } });
      if (r.matchedCount > 0) stats.reassignments++;
    } else if (roll < 0.65) {
      await orders.replaceOne({ _id }, { customer_id: customer(), amount: amount() }, {
        upsert: true,
      });
      stats.replaces++;
    } else if (roll < 0.85) {
      const r = await orders.deleteOne({ _id });
      if (r.deletedCount > 0) stats.deletes++;
    } else {
      const r = await orders.updateOne(
        { _id },
        { $setOnInsert: { customer_id: customer(), amount: amount() } },
        { upsert: true },
      );
      if (r.upsertedCount > 0) stats.inserts++;
    }
  }
  return stats;
}
