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
import { decodeOrder, type Order } from "./order.ts";

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
