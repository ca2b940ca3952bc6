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
import { decodeOrder, type Order, parseAmount, parseCustomerId } from "./order.ts";
import type { ContributionCodec } from "../runtimes/live/apply.ts";
import { BadRecordError } from "../util/errors.ts";

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
 * partial update may move the order to another customer, change its amount, or both.
 */
export const orderContribution: ContributionCodec = {
  fromDocument(document, where) {
    const order = decodeOrder(document, where);
    return { key: order.customer_id, value: order.amount };
  },
  fromPatch(previous, patch, where) {
    for (const field of ["customer_id", "amount"]) {
      if (patch.removed.includes(field)) {
        throw new BadRecordError(where, `update removes ${field}; an order needs one`);
      }
    }
    return {
      key: patch.customer_id === undefined
        ? previous.key
        : parseCustomerId(patch.customer_id, where),
      value: patch.amount === undefined ? previous.value : parseAmount(patch.amount, where),
    };
  },
};
