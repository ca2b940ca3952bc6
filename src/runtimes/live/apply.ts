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
import type { ClusterTime, OrderChange } from "../../pipeline/change.ts";
import type {
  Contribution,
  ContributionCodec,
  ContributionReading,
} from "../../pipeline/contribution.ts";
import type { LedgerEntry } from "../../state/store.ts";
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
 * `judge()`'s rule (src/state/version.ts). A change that makes the order invalid is
 * rejected and still applied: the entry keeps only the valid fields, so the order
 * contributes nothing until a later change repairs it.
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
      const reading = read(state, change, where, codec);
      const at = formatVersion(next);
      state = reading === undefined
        ? { record, present: false, version: at }
        : { record, present: true, ...fieldsOf(reading), version: at };
      version = next;
      if (reading?.invalid) outcome.rejected.push({ where, error: reading.invalid });
    } catch (error) {
      if (!(error instanceof BadRecordError)) throw error;
      outcome.rejected.push({ where, error });
    }
  }
  if (state !== current) outcome.next = state;
  return outcome;
}

/** The order's fields after `change`; undefined when it no longer exists. */
function read(
  state: LedgerEntry | undefined,
  change: OrderChange,
  where: string,
  codec: ContributionCodec,
): ContributionReading | undefined {
  switch (change.kind) {
    case "upsert":
      return codec.fromDocument(change.document, where);
    case "delete":
      return undefined;
    case "patch":
      if (state?.present !== true) {
        throw new BadRecordError(
          where,
          "unknown_state",
          "partial update of an order with no known current state (no full document " +
            "seen); use Debezium capture.mode change_streams_update_full",
        );
      }
      return codec.fromPatch(fieldsOf(state), change.patch, where);
  }
}

/** The defined fields of a contribution (an absent field stays absent, not `undefined`). */
function fieldsOf({ key, value }: Contribution): Contribution {
  return { ...(key === undefined ? {} : { key }), ...(value === undefined ? {} : { value }) };
}

/** What an entry adds to the totals, if anything: an existing order with both fields valid. */
export function contributionOf(
  entry: LedgerEntry | undefined,
): { key: string; value: bigint } | undefined {
  if (entry?.present !== true || entry.key === undefined || entry.value === undefined) {
    return undefined;
  }
  return { key: entry.key, value: entry.value };
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
  const old = contributionOf(before);
  const now = contributionOf(after);
  if (old) add(old.key, group.invert(old.value));
  if (now) add(now.key, now.value);
}
