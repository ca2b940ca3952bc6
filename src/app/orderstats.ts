/**
 * The orderstats pipeline: per-customer sum of order amounts. This definition is the one
 * place that says how an order maps to a key (`customer_id`, a string or integer) and a
 * value (`amount`, an exact int64); bootstrap and live both read orders through it.
 *
 * @module
 */
import { Sum } from "../pipeline/monoid.ts";
import { type Pipeline, pipeline } from "../pipeline/pipeline.ts";
import { field, type RecordFields } from "../pipeline/fields.ts";
import { readInt64, readKeyText } from "../pipeline/bson_values.ts";

/** The fields of an orders document the pipeline reads. */
export const orderFields: RecordFields<bigint> = Object.freeze({
  key: field("customer_id", readKeyText),
  value: field("amount", readInt64),
});

/** The pipeline definition, for any store. */
export function orderTotals<S>(name: string, store: S): Pipeline<bigint, S> {
  return pipeline<bigint>(name)
    .key(orderFields.key)
    .value(orderFields.value)
    .aggregate(Sum)
    .storeIn(store);
}
