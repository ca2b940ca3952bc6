/**
 * The pipeline DSL: a named, typed description of "group records by key, map each to a
 * value, combine with a monoid, keep the result in a store". It holds no I/O and knows
 * nothing about bootstrap or live: runtimes read the definition and do the work.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Sum } from "./monoid.ts";
 *
 * type Order = { customer_id: string; amount: bigint };
 * const p = pipeline<Order, bigint>("order_totals")
 *   .key((o) => o.customer_id)
 *   .value((o) => o.amount)
 *   .aggregate(Sum)
 *   .storeIn("any store: the runtimes use it, the definition only carries it");
 * const order: Order = { customer_id: "c1", amount: 250n };
 * assert.equal(p.keyOf(order), "c1");
 * assert.equal(p.monoid.combine(p.valueOf(order), 100n), 350n);
 * ```
 *
 * @module
 */
import type { Monoid } from "./monoid.ts";

/** A finished pipeline definition, handed unchanged to any runtime. */
export interface Pipeline<T, V, S> {
  readonly name: string;
  readonly keyOf: (record: T) => string;
  readonly valueOf: (record: T) => V;
  readonly monoid: Monoid<V>;
  readonly store: S;
}

/** Starts a pipeline definition. `name` namespaces its state. */
export function pipeline<T, V>(name: string): KeyStep<T, V> {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) {
    throw new RangeError(
      `Cannot define pipeline: name must be 1-64 characters of [A-Za-z0-9_.-]: got "${name}"`,
    );
  }
  return {
    key: (keyOf) => ({
      value: (valueOf) => ({
        aggregate: (monoid) => ({
          storeIn: (store) => Object.freeze({ name, keyOf, valueOf, monoid, store }),
        }),
      }),
    }),
  };
}

/** Builder step: choose the grouping key. */
export interface KeyStep<T, V> {
  key(keyOf: (record: T) => string): ValueStep<T, V>;
}
/** Builder step: choose each record's value. */
export interface ValueStep<T, V> {
  value(valueOf: (record: T) => V): AggregateStep<T, V>;
}
/** Builder step: choose how values combine. */
export interface AggregateStep<T, V> {
  aggregate<M extends Monoid<V>>(monoid: M): StoreStep<T, V>;
}
/** Builder step: choose where results live. */
export interface StoreStep<T, V> {
  storeIn<S>(store: S): Pipeline<T, V, S>;
}
