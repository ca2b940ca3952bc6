/**
 * Ledger versions: strings whose order is the order of changes to one record, so
 * DynamoDB can compare them in a condition (`ver < :v`).
 *
 * - `<cluster time, 16 hex>/<kafka offset, 16 hex>` for a change with a (possibly
 *   approximated) cluster time; the offset breaks ties inside one cluster time.
 * - `<cluster time>/b` for what the bootstrap scan saw at handoff time T0: it sorts after
 *   every event at T0 ('b' > any hex digit) and before every event after T0.
 * - `~/<kafka offset>` for a change with no position at all (raw order JSON): newer than
 *   anything positioned, ordered among itself by offset.
 *
 * @module
 */
import { type ClusterTime, packTimestamp, type Position } from "../sources/change.ts";

const hex16 = (n: bigint) => n.toString(16).padStart(16, "0");

/** The version of the state a bootstrap scan wrote, taken at cluster time `t0`. */
export function bootstrapVersion(t0: ClusterTime | undefined): string {
  return `${hex16(t0 ?? 0n)}/b`;
}

/**
 * The cluster time a position stands for. Wall time (Debezium ≥ 3.4) only tells the
 * second, so it stands for the end of that second: an event is then never taken for
 * older than it may be, and re-applying an older one in Kafka order is harmless.
 */
export function positionTime(position: Position): ClusterTime | undefined {
  if (position.clusterTime !== undefined) return position.clusterTime;
  if (position.wallMs !== undefined) {
    return packTimestamp(Math.floor(position.wallMs / 1000), 0xffffffff);
  }
  return undefined;
}

/**
 * True when the change certainly happened at or before the handoff time `t0`, so the
 * bootstrap scan already covers it. Unpositioned changes are never skipped.
 */
export function isCoveredByHandoff(position: Position, t0: ClusterTime | undefined): boolean {
  const time = positionTime(position);
  return t0 !== undefined && time !== undefined && time <= t0;
}

/** The version of a change read from Kafka at `offset`. */
export function changeVersion(position: Position, offset: bigint): string {
  const time = positionTime(position);
  return time === undefined ? `~/${hex16(offset)}` : `${hex16(time)}/${hex16(offset)}`;
}
