/**
 * The pipeline DSL: a named, typed description of "group documents by a key field, read a
 * value field from each, combine with a monoid, keep the result in a store". It holds no
 * I/O and knows nothing about bootstrap or live: runtimes read the definition and do the
 * work, and it is the one place that says which fields make a record's key and value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { field, readDocument } from "./fields.ts";
 * import { readInt64, readKeyText } from "./bson_values.ts";
 * import { Sum } from "./monoid.ts";
 *
 * const p = pipeline<bigint>("order_totals")
 *   .key(field("customer_id", readKeyText))
 *   .value(field("amount", readInt64))
 *   .aggregate(Sum)
 *   .storeIn("any store: the runtimes use it, the definition only carries it");
 * const order = readDocument(p.fields, { _id: 1, customer_id: "c1", amount: 250 }, "t");
 * assert.equal(order.key, "c1");
 * assert.equal(p.monoid.combine(order.value, 100n), 350n);
 * ```
 *
 * @module
 */
import type { Monoid } from "./monoid.ts";
import type { Field, RecordFields } from "./fields.ts";

/** A finished pipeline definition, handed unchanged to any runtime. */
export interface Pipeline<V, S> {
  readonly name: string;
  /** The key and value fields every document is read through. */
  readonly fields: RecordFields<V>;
  readonly monoid: Monoid<V>;
  readonly store: S;
}

/** Starts a pipeline definition. `name` namespaces its state. */
export function pipeline<V>(name: string): KeyStep<V> {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) {
    throw new RangeError(
      `Cannot define pipeline: name must be 1-64 characters of [A-Za-z0-9_.-]: got "${name}"`,
    );
  }
  return {
    key: (key) => ({
      value: (value) => ({
        aggregate: (monoid) => ({
          storeIn: (store) =>
            Object.freeze({ name, fields: Object.freeze({ key, value }), monoid, store }),
        }),
      }),
    }),
  };
}

/** Builder step: choose the field that groups documents. */
export interface KeyStep<V> {
  key(field: Field<string>): ValueStep<V>;
}
/** Builder step: choose the field each document contributes. */
export interface ValueStep<V> {
  value(field: Field<V>): AggregateStep<V>;
}
/** Builder step: choose how values combine. */
export interface AggregateStep<V> {
  aggregate<M extends Monoid<V>>(monoid: M): StoreStep<V>;
}
/** Builder step: choose where results live. */
export interface StoreStep<V> {
  storeIn<S>(store: S): Pipeline<V, S>;
}
