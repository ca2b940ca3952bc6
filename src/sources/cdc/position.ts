/**
 * Where a Debezium event sits in MongoDB's history, from its `source` block.
 *
 * @module
 */
import { BadRecordError } from "../../util/errors.ts";
import { packTimestamp, type Position } from "../../pipeline/change.ts";

const VERSION = /^(\d+)\.(\d+)(?:\.|$|-)/;

/**
 * Whether a Debezium release writes the write's wall time into `source.ts_ms` rather than the
 * cluster time. Up to 3.3, `ts_ms` is the oplog Timestamp's seconds × 1000 and `ord` its
 * increment; from 3.4 (DBZ-9683) `ts_ms` is the wall time in ms. An unknown or unparsable
 * version counts as wall time: claiming an exact cluster time we cannot vouch for is the
 * worse mistake.
 *
 * @param version `source.version`, e.g. `"2.7.0.Final"`, `"3.4.0.CR1"`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tsMsIsWallTime } from "./position.ts";
 * assert.equal(tsMsIsWallTime("3.3.1.Final"), false);
 * assert.equal(tsMsIsWallTime("3.4.0.Final"), true);
 * ```
 */
export function tsMsIsWallTime(version: string | undefined): boolean {
  const match = version === undefined ? null : VERSION.exec(version);
  if (!match) return true;
  const major = Number(match[1]);
  const minor = Number(match[2]);
  return major > 3 || (major === 3 && minor >= 4);
}

/** The fields of a Debezium `source` block (or flattened `__source_*` fields) positions use. */
export interface SourcePositionFields {
  version?: unknown;
  ts_ms?: unknown;
  ord?: unknown;
}

/**
 * The {@link Position} of an event from its source fields: `clusterTime = (ts_ms/1000) << 32 | ord`
 * for Debezium ≤ 3.3, `wallMs = ts_ms` for 3.4+ or when `ord` or the version is missing.
 * No `ts_ms` → an empty position. Snapshot (`r`) events carry the position the snapshot
 * started from, a lower bound of the read's time.
 */
export function sourcePosition(source: SourcePositionFields, where: string): Position {
  if (source.ts_ms === undefined || source.ts_ms === null) return {};
  const tsMs = source.ts_ms;
  if (typeof tsMs !== "number" || !Number.isSafeInteger(tsMs) || tsMs < 0) {
    throw new BadRecordError(
      where,
      "bad_envelope",
      `source ts_ms ${JSON.stringify(tsMs)} is not a timestamp`,
    );
  }
  const version = typeof source.version === "string" ? source.version : undefined;
  if (tsMsIsWallTime(version) || source.ord === undefined || source.ord === null) {
    return { wallMs: tsMs };
  }
  const ord = source.ord;
  if (typeof ord !== "number" || !Number.isInteger(ord) || ord < 0 || ord > 0xffff_ffff) {
    throw new BadRecordError(
      where,
      "bad_envelope",
      `source ord ${JSON.stringify(ord)} is not a Timestamp increment`,
    );
  }
  return { clusterTime: packTimestamp(Math.floor(tsMs / 1000), ord) };
}
