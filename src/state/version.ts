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
import type { ClusterTime, Position } from "../sources/change.ts";

const hex16 = (n: bigint) => n.toString(16).padStart(16, "0");

/** The version of the state a bootstrap scan wrote, taken at cluster time `t0`. */
export function bootstrapVersion(t0: ClusterTime | undefined): string {
  return `${hex16(t0 ?? 0n)}/b`;
}

/** The cluster time a position stands for, exact or approximated from wall time. */
export function positionTime(position: Position): ClusterTime | undefined {
  if (position.clusterTime !== undefined) return position.clusterTime;
  if (position.wallMs !== undefined) return BigInt(Math.floor(position.wallMs / 1000)) << 32n;
  return undefined;
}

/** The version of a change read from Kafka at `offset`. */
export function changeVersion(position: Position, offset: bigint): string {
  const time = positionTime(position);
  return time === undefined ? `~/${hex16(offset)}` : `${hex16(time)}/${hex16(offset)}`;
}
