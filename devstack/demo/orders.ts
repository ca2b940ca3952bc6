/**
 * The demo's orders: `{_id, customer_id, amount}` with every `_id` type orderstats accepts
 * (ObjectId, string, int32, int64) and int64 amounts in cents — one in 7,000 above 2^53,
 * where a double would lose cents — and a random mix of changes applied through the driver.
 *
 * @module
 */
import { type Collection, type Document, Long, ObjectId } from "mongodb";
import { rng } from "../lib/workload.ts";

/** How many changes of each kind a run of {@link OrderWorkload.apply} made. */
export interface ChangeCounts {
  inserts: number;
  amountUpdates: number;
  reassignments: number;
  deletes: number;
}

type OrderId = ObjectId | string | number | Long;

/** Where the int64 `_id`s start, so they never equal an int32 one. */
const INT64_BASE = 5_000_000_000;
/** One order in this many (the 4th, 7,004th, …) has an amount above 2^53. */
const WHALE_EVERY = 7_000;

/** Seeds orders and changes them, remembering which `_id`s exist. */
export class OrderWorkload {
  readonly #orders: Collection;
  readonly #customers: number;
  readonly #random: () => number;
  readonly #ids: OrderId[] = [];
  #next = 0;

  constructor(orders: Collection, { customers, seed }: { customers: number; seed: number }) {
    this.#orders = orders;
    this.#customers = customers;
    this.#random = rng(seed);
  }

  /** Orders that exist now. */
  get size(): number {
    return this.#ids.length;
  }

  /** Inserts `count` new orders, 1 000 per `insertMany`; returns a few as examples. */
  async seed(count: number, onProgress?: (done: number) => void): Promise<Document[]> {
    const examples: Document[] = [];
    for (let done = 0; done < count;) {
      const batch = Array.from({ length: Math.min(1000, count - done) }, () => this.#newOrder());
      await this.#orders.insertMany(batch, { ordered: false });
      this.#ids.push(...batch.map((d) => d._id as OrderId));
      if (examples.length === 0) examples.push(...batch.slice(0, 4));
      done += batch.length;
      onProgress?.(done);
    }
    return examples;
  }

  /**
   * Applies random changes — 25% inserts, 35% amount updates, 20% customer reassignments,
   * 20% deletes — until `count` are done or `until()` says stop.
   */
  async apply(
    count: number,
    { until = () => false, onProgress }: {
      until?: () => boolean;
      onProgress?: (done: number) => void;
    } = {},
  ): Promise<ChangeCounts> {
    const counts: ChangeCounts = { inserts: 0, amountUpdates: 0, reassignments: 0, deletes: 0 };
    for (let done = 0; done < count && !until(); done++) {
      const roll = this.#random();
      if (roll < 0.25 || this.#ids.length === 0) {
        const order = this.#newOrder();
        await this.#orders.insertOne(order);
        this.#ids.push(order._id as OrderId);
        counts.inserts++;
      } else if (roll < 0.6) {
        await this.#orders.updateOne({ _id: this.#pick() }, { $set: { amount: this.#amount() } });
        counts.amountUpdates++;
      } else if (roll < 0.8) {
        await this.#orders.updateOne({ _id: this.#pick() }, {
          $set: { customer_id: this.#customer() },
        });
        counts.reassignments++;
      } else {
        const at = Math.floor(this.#random() * this.#ids.length);
        const _id = this.#ids[at];
        this.#ids[at] = this.#ids[this.#ids.length - 1];
        this.#ids.pop();
        await this.#orders.deleteOne({ _id: _id as never });
        counts.deletes++;
      }
      onProgress?.(done + 1);
    }
    return counts;
  }

  #pick(): never {
    return this.#ids[Math.floor(this.#random() * this.#ids.length)] as never;
  }

  #customer(): string {
    return `cust-${String(Math.floor(this.#random() * this.#customers)).padStart(4, "0")}`;
  }

  /** Cents: $1–$5,000, or for a "whale" order above 2^53 cents (exact only as an int64). */
  #amount(whale = false): Long {
    if (whale) return Long.fromBigInt(2n ** 53n + BigInt(Math.floor(this.#random() * 1e9)));
    return Long.fromNumber(100 + Math.floor(this.#random() * 500_000));
  }

  #newOrder(): Document {
    const n = this.#next++;
    const hex = () => Math.floor(this.#random() * 2 ** 32).toString(16).padStart(8, "0");
    const ids: OrderId[] = [
      new ObjectId(hex() + hex() + hex()),
      `ord-${String(n).padStart(6, "0")}`,
      n,
      Long.fromNumber(INT64_BASE + n),
    ];
    const whale = n % WHALE_EVERY === 3;
    return { _id: ids[n % 4], customer_id: this.#customer(), amount: this.#amount(whale) };
  }
}

/**
 * Counts in words.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(
 *   describeCounts({ inserts: 1, amountUpdates: 0, reassignments: 2, deletes: 3 }),
 *   "1 insert, 0 amount updates, 2 customer reassignments, 3 deletes",
 * );
 * ```
 */
export function describeCounts(c: ChangeCounts): string {
  const n = (count: number, what: string) => `${count} ${what}${count === 1 ? "" : "s"}`;
  return [
    n(c.inserts, "insert"),
    n(c.amountUpdates, "amount update"),
    n(c.reassignments, "customer reassignment"),
    n(c.deletes, "delete"),
  ].join(", ");
}
