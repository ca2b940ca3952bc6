/**
 * What a change means for the aggregate: the contribution `(key, value)` a record makes, read
 * from a full document or from the previous contribution and a partial update. Runtimes apply
 * changes through a codec; the app supplies it.
 *
 * @module
 */
import type { OrderPatch } from "./change.ts";
import type { BadRecordError } from "../util/errors.ts";

/**
 * What an order's fields make of it: the key it counts for and its value, each absent
 * when the field is missing or invalid. Only an order with both contributes.
 */
export interface Contribution {
  key?: string;
  value?: bigint;
}

/** A change's reading of an order: its fields, and why it contributes nothing, if it does not. */
export interface ContributionReading extends Contribution {
  invalid?: BadRecordError;
}

/**
 * How a runtime turns change payloads into a contribution. A change that makes the order
 * invalid still sets it: from then on the order contributes nothing, as a bootstrap of the
 * same document would count nothing.
 */
export interface ContributionCodec {
  /** From a full document. */
  fromDocument(document: Record<string, unknown>, where: string): ContributionReading;
  /** From the previous fields and a partial update. */
  fromPatch(previous: Contribution, patch: OrderPatch, where: string): ContributionReading;
}
