/**
 * The orderstats pipeline: per-customer sum of order amounts. One definition serves
 * bootstrap and live; like the Go original's BuildBootstrap/BuildLive, the builders
 * below only wire that definition to each mode's source.
 *
 * @module
 */
import type { Document } from "mongodb";
import { Sum } from "../pipeline/monoid.ts";
import { type Pipeline, pipeline } from "../pipeline/pipeline.ts";
import { orderKey, parseAmount, parseCustomerId } from "../pipeline/bson_values.ts";
import type { ContributionCodec, ContributionReading } from "../pipeline/contribution.ts";
import type { OrderPatch } from "../pipeline/change.ts";
import { BadRecordError } from "../util/errors.ts";

/** One order as the pipeline sees it. */
export interface Order {
  /** Canonical `_id` (see {@link orderKey}). */
  orderKey: string;
  customer_id: string;
  /** Amount in the collection's minor unit, exact. */
  amount: bigint;
}

/** Turns a full order document into an {@link Order}, or throws {@link BadRecordError}. */
export function decodeOrder(doc: Record<string, unknown>, where: string): Order {
  return {
    orderKey: orderKey(doc._id, where),
    customer_id: parseCustomerId(doc.customer_id, where),
    amount: parseAmount(doc.amount, where),
  };
}

/** The pipeline definition, for any store. */
export function orderTotals<S>(name: string, store: S): Pipeline<Order, bigint, S> {
  return pipeline<Order, bigint>(name)
    .key((order) => order.customer_id)
    .value((order) => order.amount)
    .aggregate(Sum)
    .storeIn(store);
}

/** Decodes an orders document into the pipeline's record and its ledger identity. */
export function decodeOrderDocument(doc: Document, where: string): { id: string; record: Order } {
  const order = decodeOrder(doc, where);
  return { id: order.orderKey, record: order };
}

/**
 * Live mode's view of an order change: which customer it counts for and how much. A
 * partial update may move the order to another customer, change its amount, or both; a
 * change that leaves either field missing or invalid keeps the other and says why.
 */
export const orderContribution: ContributionCodec = {
  fromDocument(document, where) {
    return reading(
      () => parseCustomerId(document.customer_id, where),
      () => parseAmount(document.amount, where),
      where,
    );
  },
  fromPatch(previous, patch, where) {
    return reading(
      () => patched("customer_id", previous.key, patch, where, parseCustomerId),
      () => patched("amount", previous.value, patch, where, parseAmount),
      where,
    );
  },
};

/** Reads both fields, keeping each valid one and collecting why the others are not. */
function reading(
  key: () => string,
  value: () => bigint,
  where: string,
): ContributionReading {
  const reasons: string[] = [];
  const attempt = <T>(field: () => T): T | undefined => {
    try {
      return field();
    } catch (error) {
      if (!(error instanceof BadRecordError)) throw error;
      reasons.push(error.reason);
      return undefined;
    }
  };
  const result: ContributionReading = {};
  const k = attempt(key);
  const v = attempt(value);
  if (k !== undefined) result.key = k;
  if (v !== undefined) result.value = v;
  if (reasons.length > 0) result.invalid = new BadRecordError(where, reasons.join("; "));
  return result;
}

/** One field after a partial update: removed, set, or the previous (valid) value. */
function patched<T>(
  field: "customer_id" | "amount",
  previous: T | undefined,
  patch: OrderPatch,
  where: string,
  parse: (value: unknown, where: string) => T,
): T {
  if (patch.removed.includes(field)) {
    throw new BadRecordError(where, `update removes ${field}; an order needs one`);
  }
  if (patch[field] !== undefined) return parse(patch[field], where);
  if (previous === undefined) {
    throw new BadRecordError(where, `${field} is still missing or invalid since an earlier change`);
  }
  return previous;
}
