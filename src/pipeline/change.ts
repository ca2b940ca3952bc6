/**
 * The change events every source produces: what happened to one order, and where in
 * the MongoDB history it happened. Runtimes only ever see these, whatever the wire format.
 *
 * @module
 */

/** A MongoDB cluster Timestamp `(t, i)` packed as `t << 32 | i`; totally ordered. */
export type ClusterTime = bigint;

/** Cluster time split into its Timestamp parts: seconds and increment. */
export interface TimestampParts {
  t: number;
  i: number;
}

/** Splits a packed cluster time into `(t, i)`. */
export function timestampParts(time: ClusterTime): TimestampParts {
  return { t: Number(time >> 32n), i: Number(time & 0xffffffffn) };
}

/** Packs `(t, i)` into a cluster time. */
export function packTimestamp(t: number, i: number): ClusterTime {
  return (BigInt(t) << 32n) | BigInt(i);
}

/** Where an event sits in MongoDB's history, as far as the source knows it. */
export interface Position {
  /** Exact cluster time of the write, when the format carries it (Debezium ≤ 3.3, tokens). */
  clusterTime?: ClusterTime;
  /** Wall-clock milliseconds of the write, when only that is known (Debezium ≥ 3.4). */
  wallMs?: number;
}

/** What a partial update (no full document) does to the fields the pipeline reads. */
export interface OrderPatch {
  /** New values of the pipeline's fields the update sets; absent means unchanged. */
  set: Record<string, unknown>;
  /** The pipeline's top-level fields the update removed (e.g. `amount`). */
  removed: string[];
}

/**
 * One change to one order. `orderKey` is the canonical form of the document `_id`
 * (see `orderKey()` in `./bson_values.ts`), identical whether the `_id` came from BSON, a
 * Debezium key or an extended-JSON document.
 */
export type OrderChange =
  /**
   * The order's full current document (insert, replace, update with full document, snapshot
   * read). `inserted`: the source says MongoDB inserted it (Debezium op `c`).
   */
  | {
    kind: "upsert";
    orderKey: string;
    document: Record<string, unknown>;
    position: Position;
    inserted?: boolean;
  }
  /** An update that only says which fields changed. */
  | { kind: "patch"; orderKey: string; patch: OrderPatch; position: Position }
  /** The order no longer exists. */
  | { kind: "delete"; orderKey: string; position: Position };
