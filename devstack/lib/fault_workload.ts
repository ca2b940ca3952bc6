/**
 * The seeded workload every fault run drives (issue 9): inserts, amount updates, customer
 * moves, deletes, re-inserts of deleted `_id`s, int64 amounts beyond 2^53, many customers plus
 * a few very hot ones. It is the collection's only writer, so it tracks which `_id`s exist and
 * picks each operation so that it really changes something.
 *
 * `_id`s are strings (`o0`, `o1`…): FerretDB can find a string `_id` by its index, while a
 * numeric one costs a scan of the whole collection per lookup, which made a 200 000-event soak
 * run at 2 writes a second.
 *
 * @module
 */
import type { Collection } from "mongodb";
import { Long } from "mongodb";
import { rng } from "./workload.ts";

/** Shape of a fault workload; the same options and seed give the same operations. */
export interface FaultWorkloadOptions {
  seed: number;
  /** Ordinary customers (`c0`…). */
  customers: number;
  /** Very hot customers (`hot0`…), which `hotShare` of the written orders go to. */
  hotCustomers: number;
  /** Share (0..1) of inserts and moves that go to a hot customer. */
  hotShare: number;
  /** `_id`s are `o<n>` with n drawn from [0, idSpace). */
  idSpace: number;
}

/** Counts of what a fault workload did. */
export interface FaultWorkloadStats {
  ops: number;
  inserts: number;
  reinserts: number;
  amountUpdates: number;
  moves: number;
  deletes: number;
  /** Amounts written beyond 2^53 (in magnitude). */
  bigAmounts: number;
  /** Inserts and moves that went to a hot customer. */
  hotOps: number;
}

/** Options for {@link FaultWorkload.run}. */
export interface FaultRunOptions {
  /** Stops the run early (after the operations in flight). */
  signal?: AbortSignal;
  /** Paces the operations; unpaced when absent. */
  ratePerSecond?: number;
  /** Operations in flight at once (never two on one `_id`). @default 4 */
  concurrency?: number;
}

/** One chosen operation: the `_id` it writes and the write itself. */
interface Operation {
  id: number;
  write: () => Promise<unknown>;
}

// Big amounts only ever sit on the first BIG_IDS `_id`s, so no total can leave int64:
// 64 × (2^53 + 2^40) plus every small amount stays far below 2^63.
const BIG_IDS = 64;
const TWO_53 = 2n ** 53n;

const orderId = (n: number) => `o${n}`;

/** A set of `_id` numbers with a uniform random pick. */
class IdPool {
  readonly #ids: number[] = [];
  readonly #at = new Map<number, number>();
  get size(): number {
    return this.#ids.length;
  }
  add(id: number): void {
    if (this.#at.has(id)) return;
    this.#at.set(id, this.#ids.length);
    this.#ids.push(id);
  }
  remove(id: number): void {
    const at = this.#at.get(id);
    if (at === undefined) return;
    const last = this.#ids.pop()!;
    this.#at.delete(id);
    if (last !== id) {
      this.#ids[at] = last;
      this.#at.set(last, at);
    }
  }
  pick(random: () => number): number {
    return this.#ids[Math.floor(random() * this.#ids.length)];
  }
}

/** The orders this workload writes. */
interface Order {
  _id: string;
  customer_id: string;
  amount: Long;
}
type Orders = Collection<Order>;

/** The seeded fault workload over one collection. */
export class FaultWorkload {
  readonly #orders: Orders;
  readonly #random: () => number;
  readonly #live = new IdPool();
  readonly #deleted = new IdPool();
  #nextId = 0;
  readonly stats: FaultWorkloadStats = {
    ops: 0,
    inserts: 0,
    reinserts: 0,
    amountUpdates: 0,
    moves: 0,
    deletes: 0,
    bigAmounts: 0,
    hotOps: 0,
  };

  constructor(orders: Collection, readonly options: FaultWorkloadOptions) {
    this.#orders = orders as unknown as Orders;
    this.#random = rng(options.seed);
  }

  /** Inserts `n` initial orders (`o0`…), in batches. */
  async seed(n: number): Promise<void> {
    const count = Math.min(n, this.options.idSpace);
    for (let start = 0; start < count; start += 1000) {
      const batch: Order[] = [];
      const end = Math.min(start + 1000, count);
      for (let id = start; id < end; id++) batch.push(this.#order(id));
      await this.#orders.insertMany(batch);
      for (let id = start; id < end; id++) this.#live.add(id);
    }
    this.#nextId = Math.max(this.#nextId, count);
  }

  /**
   * Applies `steps` random operations (fewer if `signal` aborts), up to `concurrency` at a time
   * on distinct `_id`s; returns the counts so far. The operations are chosen in seeded order.
   */
  async run(
    steps: number,
    { signal, ratePerSecond, concurrency = 4 }: FaultRunOptions = {},
  ): Promise<FaultWorkloadStats> {
    const started = performance.now();
    const inFlight = new Map<number, Promise<void>>();
    for (let step = 0; step < steps && !signal?.aborted; step++) {
      const { id, write } = this.#next();
      await inFlight.get(id);
      while (inFlight.size >= concurrency) await Promise.race(inFlight.values());
      const done: Promise<void> = write().then(() => {
        if (inFlight.get(id) === done) inFlight.delete(id);
        this.stats.ops++;
      });
      inFlight.set(id, done);
      if (ratePerSecond) {
        const wait = started + ((step + 1) * 1000) / ratePerSecond - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    }
    await Promise.all(inFlight.values());
    return { ...this.stats };
  }

  /** The next operation: its `_id` and its write (the bookkeeping is done already). */
  #next(): Operation {
    const roll = this.#random();
    const canInsert = this.#nextId < this.options.idSpace;
    if (this.#live.size === 0 || (roll < 0.25 && canInsert)) return this.#insert();
    if (roll < 0.4 && this.#deleted.size > 0) return this.#reinsert();
    if (roll < 0.7) return this.#updateAmount();
    if (roll < 0.85) return this.#move();
    return this.#delete();
  }

  #insert(): Operation {
    if (this.#nextId >= this.options.idSpace) return this.#reinsert();
    const id = this.#nextId++;
    const doc = this.#order(id);
    this.#live.add(id);
    this.stats.inserts++;
    return { id, write: () => this.#orders.insertOne(doc) };
  }

  #reinsert(): Operation {
    if (this.#deleted.size === 0) return this.#updateAmount();
    const id = this.#deleted.pick(this.#random);
    const doc = this.#order(id);
    this.#deleted.remove(id);
    this.#live.add(id);
    this.stats.reinserts++;
    return { id, write: () => this.#orders.insertOne(doc) };
  }

  #updateAmount(): Operation {
    const id = this.#live.pick(this.#random);
    const amount = this.#amount(id);
    this.stats.amountUpdates++;
    return { id, write: () => this.#orders.updateOne({ _id: orderId(id) }, { $set: { amount } }) };
  }

  #move(): Operation {
    const id = this.#live.pick(this.#random);
    const customer_id = this.#customer();
    this.stats.moves++;
    return {
      id,
      write: () => this.#orders.updateOne({ _id: orderId(id) }, { $set: { customer_id } }),
    };
  }

  #delete(): Operation {
    const id = this.#live.pick(this.#random);
    this.#live.remove(id);
    this.#deleted.add(id);
    this.stats.deletes++;
    return { id, write: () => this.#orders.deleteOne({ _id: orderId(id) }) };
  }

  #order(id: number): Order {
    return { _id: orderId(id), customer_id: this.#customer(), amount: this.#amount(id) };
  }

  #customer(): string {
    const { customers, hotCustomers, hotShare } = this.options;
    if (hotCustomers > 0 && this.#random() < hotShare) {
      this.stats.hotOps++;
      return `hot${Math.floor(this.#random() * hotCustomers)}`;
    }
    return `c${Math.floor(this.#random() * customers)}`;
  }

  /** A small amount (may be negative), or on the first `_id`s sometimes one beyond ±2^53. */
  #amount(id: number): Long {
    if (id < BIG_IDS && this.#random() < 0.5) {
      this.stats.bigAmounts++;
      const magnitude = TWO_53 + BigInt(Math.floor(this.#random() * 2 ** 40));
      return Long.fromBigInt(this.#random() < 0.3 ? -magnitude : magnitude);
    }
    return Long.fromNumber(Math.floor(this.#random() * 100_000) - 10_000);
  }
}
