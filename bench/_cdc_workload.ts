/**
 * The live benchmark's input: Debezium-format order events (as the dev relay writes them,
 * version 2.7: `source.ts_ms` = cluster second, `source.ord` = increment), and the
 * per-customer totals they must leave behind.
 *
 * @module
 */
import { Int32, Long } from "mongodb";
import type { Message } from "kafkajs";
import { toDebeziumRecord } from "../devstack/debezium/record.ts";

/**
 * How customers are drawn: uniformly, Zipf with exponent 1 (customer k ∝ 1/k), or `hot`:
 * customer 0 half the time, the others uniformly.
 */
export type Distribution = "uniform" | "zipf" | "hot";

/** Every {@link Distribution}. */
export const DISTRIBUTIONS: readonly Distribution[] = ["uniform", "zipf", "hot"];

/** Draws integers in [0, n) from `dist` using `random`. */
export function sampler(dist: Distribution, n: number, random: () => number): () => number {
  if (dist === "uniform") return () => Math.floor(random() * n);
  if (dist === "hot") return () => random() < 0.5 ? 0 : 1 + Math.floor(random() * (n - 1));
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) cdf[k] = sum += 1 / (k + 1);
  return () => {
    const x = random() * sum;
    let [lo, hi] = [0, n - 1];
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** Options for {@link CdcWorkload}. */
export interface CdcWorkloadOptions {
  db: string;
  collection: string;
  /** Cluster second of every event: one after the bootstrap handoff's, so none is skipped. */
  clusterSecond: number;
  customers: number;
  dist: Distribution;
  random: () => number;
}

/**
 * Half inserts of new orders, half updates of a uniformly chosen existing order (new amount;
 * a third of them also move the order to another customer). Every event carries the full
 * document, like `capture.mode=change_streams_update_full`.
 */
export class CdcWorkload {
  /** What the events imply: customer → sum of its orders' current amounts. */
  readonly totals = new Map<string, bigint>();
  readonly #orders: { customer: string; amount: bigint }[] = [];
  readonly #customer: () => number;
  #ord = 0;

  constructor(private readonly options: CdcWorkloadOptions) {
    this.#customer = sampler(options.dist, options.customers, options.random);
  }

  /** The next event of the mix. */
  next(): Message {
    const { random } = this.options;
    if (this.#orders.length === 0 || random() < 0.5) return this.insert();
    return this.#update(Math.floor(random() * this.#orders.length));
  }

  /** An insert of a new order. */
  insert(): Message {
    const id = this.#orders.length;
    this.#orders.push({ customer: this.#pickCustomer(), amount: this.#amount() });
    this.#add(this.#orders[id], 1n);
    return this.#event("insert", id);
  }

  #update(id: number): Message {
    const order = this.#orders[id];
    this.#add(order, -1n);
    order.amount = this.#amount();
    const moved = this.options.random() < 1 / 3;
    if (moved) order.customer = this.#pickCustomer();
    this.#add(order, 1n);
    return this.#event("update", id, moved);
  }

  #event(operationType: "insert" | "update", id: number, moved = false): Message {
    const { customer, amount } = this.#orders[id];
    const document = { _id: new Int32(id), customer_id: customer, amount: Long.fromBigInt(amount) };
    const { _id: _, ...updatedFields } = document;
    if (!moved) delete (updatedFields as Partial<typeof updatedFields>).customer_id;
    const record = toDebeziumRecord({
      operationType,
      clusterTime: { t: this.options.clusterSecond, i: ++this.#ord },
      documentKey: { _id: document._id },
      fullDocument: document,
      updateDescription: operationType === "update" ? { updatedFields } : undefined,
    }, { name: "bench", db: this.options.db, collection: this.options.collection });
    return { key: record!.key, value: record!.value };
  }

  #add({ customer, amount }: { customer: string; amount: bigint }, sign: bigint): void {
    this.totals.set(customer, (this.totals.get(customer) ?? 0n) + sign * amount);
  }

  #pickCustomer(): string {
    return `c${this.#customer()}`;
  }

  #amount(): bigint {
    return BigInt(Math.floor(this.options.random() * 100_000));
  }
}
