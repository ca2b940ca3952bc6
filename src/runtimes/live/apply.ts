/**
 * The heart of live mode, free of I/O: how a record's ordered changes turn its ledger
 * entry into a new one, and which deltas that implies for the totals.
 *
 * Every change *sets* a record's contribution (upsert: key and value of the new
 * document; delete: nothing), so applying it twice, or applying an older change after a
 * newer one is refused by version, leaves the totals exact.
 *
 * @module
 */
import type { OrderChange, OrderPatch } from "../../sources/change.ts";
import type { LedgerEntry } from "../../state/dynamodb/items.ts";
import type { Group } from "../../pipeline/monoid.ts";
import { BadRecordError } from "../../util/errors.ts";

/** A decoded change with its ledger version and where it came from. */
export interface VersionedChange {
  change: OrderChange;
  version: string;
  where: string;
}

/** How a runtime turns change payloads into a contribution `(key, value)`. */
export interface ContributionCodec {
  /** From a full document; throws {@link BadRecordError}. */
  fromDocument(document: Record<string, unknown>, where: string): { key: string; value: bigint };
  /** From the previous contribution and a partial update; throws {@link BadRecordError}. */
  fromPatch(
    previous: { key: string; value: bigint },
    patch: OrderPatch,
    where: string,
  ): { key: string; value: bigint };
}

/** The outcome for one record. */
export interface RecordOutcome {
  /** The entry to write, or undefined when nothing newer arrived. */
  next?: LedgerEntry;
  /** Changes that could not be applied (they change nothing). */
  rejected: { where: string; error: BadRecordError }[];
  /** Changes older than (or equal to) what the ledger already holds. */
  stale: number;
}

/**
 * Applies one record's changes, in Kafka order, on top of its current ledger entry.
 */
export function applyChanges(
  record: string,
  current: LedgerEntry | undefined,
  changes: readonly VersionedChange[],
  codec: ContributionCodec,
): RecordOutcome {
  let state = current;
  const outcome: RecordOutcome = { rejected: [], stale: 0 };
  for (const { change, version, where } of changes) {
    if (state !== undefined && version <= state.version) {
      outcome.stale++;
      continue;
    }
    try {
      state = nextEntry(record, state, change, version, where, codec);
    } catch (error) {
      if (!(error instanceof BadRecordError)) throw error;
      outcome.rejected.push({ where, error });
    }
  }
  if (state !== current) outcome.next = state;
  return outcome;
}

function nextEntry(
  record: string,
  state: LedgerEntry | undefined,
  change: OrderChange,
  version: string,
  where: string,
  codec: ContributionCodec,
): LedgerEntry {
  switch (change.kind) {
    case "upsert":
      return { record, present: true, version, ...codec.fromDocument(change.document, where) };
    case "delete":
      return { record, present: false, version };
    case "patch": {
      if (state?.present !== true) {
        throw new BadRecordError(
          where,
          "partial update of an order with no known current state (no full document " +
            "seen); use Debezium capture.mode change_streams_update_full",
        );
      }
      const previous = { key: state.key!, value: state.value! };
      return { record, present: true, version, ...codec.fromPatch(previous, change.patch, where) };
    }
  }
}

/**
 * Adds the total deltas of replacing `before` with `after` to `deltas`: the old
 * contribution is retracted with the group's inverse, the new one added.
 */
export function addDeltas(
  deltas: Map<string, bigint>,
  before: LedgerEntry | undefined,
  after: LedgerEntry,
  group: Group<bigint>,
): void {
  const add = (key: string, value: bigint) =>
    deltas.set(key, group.combine(deltas.get(key) ?? group.empty, value));
  if (before?.present) add(before.key!, group.invert(before.value!));
  if (after.present) add(after.key!, after.value!);
}
