/**
 * The ledger entries this worker wrote last, per order, used as guesses instead of reads.
 *
 * A worker that owns a partition is usually the only writer of its orders' ledger entries,
 * so the entry it wrote last is what a read would return. The guess goes into the
 * transaction as the entry the write is conditional on: when it is stale (another worker
 * wrote the order after a rebalance, or someone wrote the ledger by hand), the condition
 * fails, nothing is written, and the batch reads the entry and recomputes. Exactness rests
 * on that condition, never on the cache.
 *
 * @module
 */
import type { LedgerEntry } from "../../state/store.ts";

/**
 * Heap bytes one remembered entry takes: 314–357 from 10 000 entries up, measured by
 * `deno task bench:ledger-cache`; rounded up.
 */
export const LEDGER_CACHE_ENTRY_BYTES = 360;

/** The share of the heap limit the cache may fill: a batch's messages and writes need the rest. */
export const LEDGER_CACHE_HEAP_SHARE = 1 / 3;

/** A bounded map of order → last written entry, evicting the least recently used. */
export class LedgerCache {
  /** Insertion order is recency order: the first key is the least recently used. */
  readonly #entries = new Map<string, { partition: number; entry: LedgerEntry }>();

  /** Holds at most `capacity` entries; 0 keeps none. */
  constructor(readonly capacity: number) {}

  /** How many entries it holds. */
  get size(): number {
    return this.#entries.size;
  }

  /** Whether it remembers an entry for `record`. */
  has(record: string): boolean {
    return this.#entries.has(record);
  }

  /** The entry this worker last wrote for `record`, if it still remembers it. */
  guess(record: string): LedgerEntry | undefined {
    const found = this.#entries.get(record);
    if (found === undefined) return undefined;
    this.#entries.delete(record);
    this.#entries.set(record, found);
    return found.entry;
  }

  /** Remembers an entry this worker wrote for an order of `partition`. */
  remember(partition: number, entry: LedgerEntry): void {
    if (this.capacity === 0) return;
    this.#entries.delete(entry.record);
    this.#entries.set(entry.record, { partition, entry });
    if (this.#entries.size > this.capacity) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }

  /** Forgets `record`: its entry may have changed (a refused write). */
  forget(record: string): void {
    this.#entries.delete(record);
  }

  /** Forgets the orders of every partition not in `partitions` (those revoked in a rebalance). */
  retain(partitions: ReadonlySet<number>): void {
    for (const [record, { partition }] of this.#entries) {
      if (!partitions.has(partition)) this.#entries.delete(record);
    }
  }
}
