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
import type { ClusterTime, OrderChange, OrderPatch } from "../../sources/change.ts";
import type { LedgerEntry } from "../../state/dynamodb/items.ts";
import {
  type ChangeOrigin,
  formatVersion,
  judge,
  type LedgerVersion,
  parseVersion,
  versionAfter,
} from "../../state/version.ts";
import type { Group } from "../../pipeline/monoid.ts";
import { BadRecordError } from "../../util/errors.ts";

/** A decoded change with its place in Kafka and a name for messages. */
export interface VersionedChange {
  change: OrderChange;
  origin: ChangeOrigin;
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
  /** Changes the bootstrap scan already covers (certainly before the handoff). */
  covered: number;
}

/**
 * Applies one record's changes, in Kafka order, on top of its current ledger entry (none:
 * the bootstrap at `handoffTime` saw no such record). Which changes count as newer is
 * `judge()`'s rule (src/state/version.ts).
 */
export function applyChanges(
  record: string,
  current: LedgerEntry | undefined,
  changes: readonly VersionedChange[],
  codec: ContributionCodec,
  handoffTime?: ClusterTime,
): RecordOutcome {
  let state = current;
  let version: LedgerVersion = current === undefined
    ? { kind: "bootstrap", handoffTime }
    : parseVersion(current.version);
  const outcome: RecordOutcome = { rejected: [], stale: 0, covered: 0 };
  for (const { change, origin, where } of changes) {
    const verdict = judge(origin, version);
    if (verdict !== "new") {
      outcome[verdict]++;
      continue;
    }
    const next = versionAfter(version, origin);
    try {
      state = nextEntry(record, state, change, formatVersion(next), where, codec);
      version = next;
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
