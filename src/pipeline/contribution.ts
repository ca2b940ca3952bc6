/**
 * What a change means for the aggregate: the contribution `(key, value)` a record makes, read
 * from a full document or from the previous contribution and a partial update. Runtimes apply
 * changes through a codec; {@link contributionCodec} derives it from the pipeline's fields.
 *
 * @module
 */
import type { OrderPatch } from "./change.ts";
import type { Field, RecordFields } from "./fields.ts";
import { BadRecordError, type BadRecordKind } from "../util/errors.ts";

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
      return reading(
        () => fields.key.read(document[fields.key.name], where),
        () => fields.value.read(document[fields.value.name], where),
        where,
      );
    },
    fromPatch(previous, patch, where) {
      return reading(
        () => patched(fields.key, previous.key, patch, where),
        () => patched(fields.value, previous.value, patch, where),
        where,
      );
    },
  };
}

/**
 * Reads both fields, keeping each valid one and collecting why the others are not. The
 * reasons are counted by the field that failed (`bad_key_field`, `bad_value_field`, or
 * `bad_fields` for both), whichever reader the app gave each field.
 */
function reading(key: () => string, value: () => bigint, where: string): ContributionReading {
  const failed: BadRecordKind[] = [];
  const reasons: string[] = [];
  const attempt = <T>(field: () => T, kind: BadRecordKind): T | undefined => {
    try {
      return field();
    } catch (error) {
      if (!(error instanceof BadRecordError)) throw error;
      failed.push(kind);
      reasons.push(error.reason);
      return undefined;
    }
  };
  const result: ContributionReading = {};
  const k = attempt(key, "bad_key_field");
  const v = attempt(value, "bad_value_field");
  if (k !== undefined) result.key = k;
  if (v !== undefined) result.value = v;
  if (failed.length > 0) {
    const kind = failed.length === 1 ? failed[0] : "bad_fields";
    result.invalid = new BadRecordError(where, kind, reasons.join("; "));
  }
  return result;
}

/**
 * One field after a partial update: removed, set, or the previous (valid) value. Its errors
 * are counted by {@link reading} under the field that failed.
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
