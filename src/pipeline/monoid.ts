/**
 * Monoids: how values for one key combine. A monoid with `invert` is a group; the live
 * runtime needs one to retract an order's old contribution on update or delete.
 *
 * @module
 */

/** An associative `combine` with an identity `empty`. */
export interface Monoid<V> {
  readonly name: string;
  readonly empty: V;
  combine(a: V, b: V): V;
  /** The inverse, when the monoid is a group (`combine(a, invert(a)) = empty`). */
  invert?(a: V): V;
}

/** A monoid whose values can be retracted. */
export type Group<V> = Monoid<V> & { invert(a: V): V };

/** Exact integer sum. */
export const Sum: Group<bigint> = {
  name: "sum",
  empty: 0n,
  combine: (a, b) => a + b,
  invert: (a) => -a,
};

/** Number of records; pair with a value field whose reader returns `1n`. */
export const Count: Group<bigint> = { ...Sum, name: "count" };

/** True when the monoid can retract contributions. */
export function isGroup<V>(monoid: Monoid<V>): monoid is Group<V> {
  return typeof monoid.invert === "function";
}
