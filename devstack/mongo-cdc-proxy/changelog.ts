/**
 * In-memory change history (TEST SUPPORT): bounded, ordered, with waiters for new events.
 */
import type { Document } from "bson";
import { type ClusterTime, compareTime, type LogicalClock } from "./clock.ts";

export type OperationType = "insert" | "update" | "replace" | "delete";

export interface ChangeEvent {
  /** 1-based position in the whole history of this process. */
  seq: number;
  time: ClusterTime;
  wallTime: Date;
  operationType: OperationType;
  db: string;
  coll: string;
  /** Exact BSON values (see wire.EXACT). */
  documentKey: Document;
  fullDocument?: Document;
  fullDocumentBeforeChange?: Document;
  updateDescription?: Document;
}

export type NewEvent = Omit<ChangeEvent, "seq" | "time" | "wallTime">;

export class HistoryLostError extends Error {
  readonly code = 286;
  readonly codeName = "ChangeStreamHistoryLost";
}

export class ChangeLog {
  readonly clock: LogicalClock;
  #events: ChangeEvent[] = [];
  #dropped = 0;
  #lastDroppedTime: ClusterTime | undefined;
  #max: number;
  #waiters = new Set<() => void>();

  constructor(clock: LogicalClock, maxEvents = 1_000_000) {
    this.clock = clock;
    this.#max = maxEvents;
  }

  /** Seq of the newest event (0 when none). */
  get lastSeq(): number {
    return this.#dropped + this.#events.length;
  }

  /** Ticks the clock and records the event at that time, so history and clock never disagree. */
  append(e: NewEvent): ChangeEvent {
    const event: ChangeEvent = {
      ...e,
      seq: this.lastSeq + 1,
      time: this.clock.tick(),
      wallTime: new Date(),
    };
    this.#events.push(event);
    if (this.#events.length > this.#max) {
      // Trim in chunks: shifting one at a time would be quadratic.
      const cut = Math.max(1, Math.floor(this.#max / 10));
      this.#lastDroppedTime = this.#events[cut - 1].time;
      this.#events.splice(0, cut);
      this.#dropped += cut;
    }
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
    return event;
  }

  /** Events with seq > `after`, at most `limit`; throws when some were trimmed away. */
  since(after: number, limit: number): ChangeEvent[] {
    if (after < this.#dropped) {
      throw new HistoryLostError("Resume point has been trimmed from the proxy's change history");
    }
    const from = after - this.#dropped;
    return this.#events.slice(from, from + limit);
  }

  /**
   * Position (seq of the last event already seen) for a stream starting after `time`, or at it
   * when `inclusive`. Throws when the time predates what this process still remembers.
   */
  positionFor(time: ClusterTime, inclusive: boolean): number {
    const older = compareTime(time, this.clock.start) < 0;
    const trimmed = this.#lastDroppedTime && compareTime(time, this.#lastDroppedTime) <= 0;
    if (older || trimmed) {
      throw new HistoryLostError(
        `Cannot resume at Timestamp(${time.t}, ${time.i}): it is older than the proxy's history`,
      );
    }
    // First event not yet seen: binary search over ordered times.
    let lo = 0;
    let hi = this.#events.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = compareTime(this.#events[mid].time, time);
      if (c < 0 || (c === 0 && !inclusive)) lo = mid + 1;
      else hi = mid;
    }
    return this.#dropped + lo;
  }

  /** Resolves when an event is appended or after `ms`. */
  waitForAppend(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waiters.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }
}
