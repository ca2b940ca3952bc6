/**
 * Logical cluster clock and resume tokens (TEST SUPPORT).
 *
 * Token `_data` (uppercase hex) = `82` + 8 bytes big-endian `(t << 32) | i` like MongoDB's
 * KeyString, then a kind byte (MongoDB's token types: 0 high-water mark, 128 event) and an
 * 8-byte sequence number. As in MongoDB, a high-water mark at T means "everything before T
 * was seen": it sorts before an event at T, and resuming from it includes events at T.
 */
import { Timestamp } from "bson";

export const TOKEN_HIGH_WATER_MARK = 0x00;
export const TOKEN_EVENT = 0x80;

export interface ClusterTime {
  t: number;
  i: number;
}

export function compareTime(a: ClusterTime, b: ClusterTime): number {
  return a.t !== b.t ? a.t - b.t : a.i - b.i;
}

export function toTimestamp(ct: ClusterTime): Timestamp {
  return new Timestamp({ t: ct.t, i: ct.i });
}

export function fromTimestamp(ts: Timestamp): ClusterTime {
  return { t: ts.high >>> 0, i: ts.low >>> 0 };
}

/** Strictly increasing cluster Timestamps: t = unix seconds, i = increment within t. */
export class LogicalClock {
  #now: () => number;
  #last: ClusterTime;
  /** The first time this clock issued: anything older predates this process. */
  readonly start: ClusterTime;

  constructor(now: () => number = Date.now) {
    this.#now = now;
    this.#last = { t: Math.floor(now() / 1000), i: 1 };
    this.start = this.#last;
  }

  current(): ClusterTime {
    return this.#last;
  }

  /**
   * One tick past the last issued time: where MongoDB starts a new change stream
   * (`getStartTimeForNewStream`). No write has it yet; the next write in the same second
   * gets exactly it, a later one a later time.
   */
  next(): ClusterTime {
    return { t: this.#last.t, i: this.#last.i + 1 };
  }

  tick(): ClusterTime {
    const t = Math.max(Math.floor(this.#now() / 1000), this.#last.t);
    this.#last = t === this.#last.t ? { t, i: this.#last.i + 1 } : { t, i: 1 };
    return this.#last;
  }
}

export interface DecodedToken {
  time: ClusterTime;
  kind: number;
  seq: number;
}

export function encodeToken(time: ClusterTime, kind: number, seq: number): string {
  const b = new Uint8Array(18);
  const v = new DataView(b.buffer);
  b[0] = 0x82;
  v.setUint32(1, time.t);
  v.setUint32(5, time.i);
  b[9] = kind;
  v.setBigUint64(10, BigInt(seq));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("").toUpperCase();
}

/** Decodes a proxy token; throws TypeError for anything else. */
export function decodeToken(data: string): DecodedToken {
  if (!/^82[0-9A-Fa-f]{34}$/.test(data)) {
    throw new TypeError(`Cannot decode resume token: unexpected _data "${data}"`);
  }
  const b = new Uint8Array(18);
  for (let k = 0; k < 18; k++) b[k] = parseInt(data.slice(k * 2, k * 2 + 2), 16);
  const v = new DataView(b.buffer);
  return {
    time: { t: v.getUint32(1), i: v.getUint32(5) },
    kind: b[9],
    seq: Number(v.getBigUint64(10)),
  };
}
