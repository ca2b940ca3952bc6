/**
 * Ledger versions: what the ledger remembers about the change that set an order's entry, so
 * live mode can tell a newer change from a replayed, redelivered or already scanned one.
 *
 * The rule (docs/data-model.md, "Versions"):
 *
 * - **Against the bootstrap's entry**, or no entry (the scan saw no such order), a change is
 *   new unless it certainly happened before the handoff time T0: an exact cluster time
 *   `< T0`. A change at T0 or later, with wall time only, or with no position is applied:
 *   re-applying what the scan saw is harmless, skipping what it missed is not.
 * - **Against a change's entry**, when both carry an exact cluster time and the times differ,
 *   the later one wins: that tells a connector's redelivered older events from new ones, on
 *   any partition. Otherwise Kafka order decides: a change is new if its offset is above the
 *   highest offset of its partition already applied to this order. A topic keyed by `_id`
 *   keeps an order's changes on one partition, in order; across partitions the order of
 *   arrival decides, and a replay of a partition stays refused.
 *
 * Wall time (Debezium ≥ 3.4) orders nothing: it can step back.
 *
 * @module
 */
import type { ClusterTime, Position } from "../pipeline/change.ts";

/** Where a change read from Kafka sits. */
export interface ChangeOrigin {
  position: Position;
  partition: number;
  offset: bigint;
}

/** What a ledger entry's `ver` says. */
export type LedgerVersion =
  | { kind: "bootstrap"; handoffTime?: ClusterTime }
  | {
    kind: "change";
    /**
     * Exact cluster time of the newest applied change that had one; a lower bound of the
     * entry's time when later changes had none (a flattened tombstone).
     */
    clusterTime?: ClusterTime;
    /** Highest offset applied to this order, per partition. */
    offsets: ReadonlyMap<number, bigint>;
    /** The offset of an entry written before partitions were recorded (any partition). */
    legacyOffset?: bigint;
  };

/** What a change is to a ledger entry. */
export type Verdict =
  /** Newer than the entry: apply it. */
  | "new"
  /** Not newer than what the entry already holds (duplicate, replay, redelivery). */
  | "stale"
  /** Certainly before the handoff: the bootstrap scan already covers it. */
  | "covered";

const hex16 = (n: bigint) => n.toString(16).padStart(16, "0");
const HEX16 = /^[0-9a-f]{16}$/;
/** Debezium ≥ 3.4 positions were once stored as the end of their wall second. */
const WALL_SECOND_END = 0xffffffffn;

/** The `ver` of the state a bootstrap scan wrote, taken at cluster time `t0`. */
export function bootstrapVersion(t0: ClusterTime | undefined): string {
  return `${hex16(t0 ?? 0n)}/b`;
}

/**
 * Encodes a version as the `ver` attribute: `<T0, 16 hex>/b` for the bootstrap,
 * `<cluster time, 16 hex | ~>/<partition>@<offset>[,…]` for a change (partitions ascending).
 */
export function formatVersion(version: LedgerVersion): string {
  if (version.kind === "bootstrap") return bootstrapVersion(version.handoffTime);
  const time = version.clusterTime === undefined ? "~" : hex16(version.clusterTime);
  const offsets = [...version.offsets].sort(([a], [b]) => a - b)
    .map(([partition, offset]) => `${partition}@${offset}`);
  return `${time}/${offsets.join(",")}`;
}

/**
 * Reads a `ver` attribute, including those written before partitions were recorded:
 * `<time, 16 hex>/<offset, 16 hex>` and `~/<offset, 16 hex>` (a time ending in `ffffffff` was
 * a wall second, not an exact cluster time). Throws `RangeError` for anything else.
 */
export function parseVersion(ver: string): LedgerVersion {
  const slash = ver.indexOf("/");
  const time = ver.slice(0, slash);
  const rest = ver.slice(slash + 1);
  if (slash < 0 || (time !== "~" && !HEX16.test(time))) {
    throw new RangeError(`Cannot read ledger version ${JSON.stringify(ver)}`);
  }
  const clusterTime = time === "~" ? undefined : BigInt(`0x${time}`);
  if (rest === "b") return { kind: "bootstrap", handoffTime: clusterTime || undefined };
  if (HEX16.test(rest)) {
    const exact = clusterTime !== undefined && (clusterTime & WALL_SECOND_END) !== WALL_SECOND_END;
    return {
      kind: "change",
      clusterTime: exact ? clusterTime : undefined,
      offsets: new Map(),
      legacyOffset: BigInt(`0x${rest}`),
    };
  }
  const offsets = new Map<number, bigint>();
  for (const part of rest.split(",")) {
    const match = /^(\d+)@(\d+)$/.exec(part);
    if (!match) throw new RangeError(`Cannot read ledger version ${JSON.stringify(ver)}`);
    offsets.set(Number(match[1]), BigInt(match[2]));
  }
  return { kind: "change", clusterTime, offsets };
}

/**
 * Judges a change against the version of the entry it would replace (see the module
 * comment). `current` is the entry's version, or the bootstrap's when there is no entry.
 */
export function judge(change: ChangeOrigin, current: LedgerVersion): Verdict {
  const time = change.position.clusterTime;
  if (current.kind === "bootstrap") {
    const t0 = current.handoffTime;
    return time !== undefined && t0 !== undefined && time < t0 ? "covered" : "new";
  }
  if (time !== undefined && current.clusterTime !== undefined && time !== current.clusterTime) {
    return time > current.clusterTime ? "new" : "stale";
  }
  const applied = current.offsets.get(change.partition) ?? current.legacyOffset;
  return applied === undefined || change.offset > applied ? "new" : "stale";
}

/** The version of an entry after `change` (judged new) replaced one at `previous`. */
export function versionAfter(previous: LedgerVersion, change: ChangeOrigin): LedgerVersion {
  if (previous.kind === "bootstrap") {
    return {
      kind: "change",
      clusterTime: change.position.clusterTime,
      offsets: new Map([[change.partition, change.offset]]),
    };
  }
  const offsets = new Map(previous.offsets);
  // An old entry's offset is in the partition of the order's later changes (keyed topics).
  const applied = offsets.get(change.partition) ?? previous.legacyOffset;
  offsets.set(
    change.partition,
    applied !== undefined && applied > change.offset ? applied : change.offset,
  );
  return {
    kind: "change",
    clusterTime: change.position.clusterTime ?? previous.clusterTime,
    offsets,
  };
}
