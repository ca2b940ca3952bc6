/**
 * What a change means for the aggregate: the contribution `(key, value)` a record makes, read
 * from a full document or from the previous contribution and a partial update. Runtimes apply
 * changes through a codec; {@link contributionCodec} derives it from the pipeline's fields.
 *
 * @module
 */
import type { OrderPatch } from "./change.ts";
import { type Field, readFields, type RecordFields } from "./fields.ts";
import { BadRecordError } from "../util/errors.ts";

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

/**
 * The codec of a pipeline reading `fields`: a full document is read field by field like the
 * bootstrap scan reads it; a partial update may move the record to another key, change its
 * value, or both. A change that leaves either field missing or invalid keeps the other and
 * says why.
 */
export function contributionCodec(fields: RecordFields<bigint>): ContributionCodec {
  return {
    fromDocument(document, where) {
      return readFields(
        () => fields.key.read(document[fields.key.name], where),
        () => fields.value.read(document[fields.value.name], where),
        where,
      );
    },
    fromPatch(previous, patch, where) {
      return readFields(
        () => patched(fields.key, previous.key, patch, where),
        () => patched(fields.value, previous.value, patch, where),
        where,
      );
    },
  };
}

/**
 * One field after a partial update: removed, set, or the previous (valid) value. Its errors
 * are counted by `readFields()` under the field that failed.
 */
function patched<T>(field: Field<T>, previous: T | undefined, patch: OrderPatch, where: string): T {
  if (patch.removed.includes(field.name)) {
    throw new BadRecordError(
      where,
      "bad_fields",
      `update removes ${field.name}; an order needs one`,
    );
  }
  const value = patch.set[field.name];
  if (value !== undefined) return field.read(value, where);
  if (previous === undefined) {
    throw new BadRecordError(
      where,
      "bad_fields",
      `${field.name} is still missing or invalid since an earlier change`,
    );
  }
  return previous;
}
