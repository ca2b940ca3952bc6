/**
 * The live benchmark's workers: several `--mode=live` children in one consumer group, their
 * /metrics summed, their RSS sampled, and the group's progress read from the brokers.
 *
 * @module
 */
import type { Admin } from "kafkajs";
import { LiveWorker } from "../devstack/lib/scenario.ts";
import { groupLag } from "../src/sources/kafka/lag.ts";
import { busySince, type CpuSnapshot, cpuSnapshot, freePort } from "./_lib.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Workers of one consumer group; disposing stops them. */
export class WorkerGroup implements AsyncDisposable {
  readonly workers: LiveWorker[];

  constructor(count: number, args: string[]) {
    this.workers = Array.from({ length: count }, () => new LiveWorker(args, freePort()));
  }

  /** Every worker's metrics, summed per series. */
  async metrics(): Promise<Map<string, number>> {
    const sum = new Map<string, number>();
    for (const one of await Promise.all(this.workers.map((w) => w.metrics()))) {
      for (const [name, value] of one) sum.set(name, (sum.get(name) ?? 0) + value);
    }
    return sum;
  }

  /** Each worker's resident set size and V8's share of it, in MB. */
  async memoryMb(): Promise<Omit<RssSample, "share">> {
    const all = await Promise.all(this.workers.map((w) => w.metrics()));
    const mb = (m: Map<string, number>, name: string) => (m.get(name) ?? 0) / 2 ** 20;
    return {
      mb: all.map((m) => mb(m, "process_resident_memory_bytes")),
      heapMb: all.map((m) => mb(m, "process_heap_bytes")),
      heapTotalMb: all.map((m) => mb(m, "process_heap_total_bytes")),
      externalMb: all.map((m) => mb(m, "process_external_memory_bytes")),
    };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop("SIGTERM")));
  }
}

/** Messages the workers decoded (covered and stale changes are in events_total too). */
export function seen(metrics: Map<string, number>): number {
  let n = 0;
  for (const [name, value] of metrics) {
    if (/^orderstats_(events|dead_lettered)_total/.test(name)) n += value;
  }
  return n;
}

/**
 * Each worker's memory (MB) when the group had seen a share of the events: RSS, V8 heap in use,
 * V8 heap reserved, and what V8 tracks outside its heap.
 */
export interface RssSample {
  share: number;
  mb: number[];
  heapMb: number[];
  heapTotalMb: number[];
  externalMb: number[];
}

/** What {@link consume} measured. */
export interface Consumed {
  perSecond: number;
  busy: number;
  /** Spawn → first progress seen, seconds. */
  startup: number;
  rss: RssSample[];
}

/**
 * Polls the workers every 100 ms from their first progress until the group's committed
 * offsets reach the end of every partition of `topic` (all `events` durable), sampling RSS
 * at each further tenth of the events.
 */
export async function consume(
  group: WorkerGroup,
  admin: Admin,
  options: { topic: string; groupId: string; events: number; spawnedAt: number },
): Promise<Consumed> {
  let first: { at: number; seen: number; cpu: CpuSnapshot } | undefined;
  const rss: RssSample[] = [];
  const deadline = Date.now() + Math.max(300_000, options.events * 5);
  while (Date.now() < deadline) {
    await sleep(100);
    const now = performance.now();
    const n = await group.metrics().then(seen, () => 0);
    if (n === 0) continue;
    first ??= { at: now, seen: n, cpu: cpuSnapshot() };
    const share = Math.min(1, n / options.events);
    if (Math.floor(share * 10) > Math.floor((rss.at(-1)?.share ?? 0) * 10)) {
      rss.push({ share, ...await group.memoryMb() });
    }
    if (n < options.events) continue;
    const lag = await groupLag(admin, options.groupId, options.topic);
    if ([...lag.values()].every((l) => l === 0n)) {
      // No rate when the first poll already saw every event: NaN, not 0.
      const perSecond = first.seen >= options.events
        ? NaN
        : (options.events - first.seen) / ((performance.now() - first.at) / 1000);
      const startup = (first.at - options.spawnedAt) / 1000;
      return { perSecond, busy: busySince(first.cpu), startup, rss };
    }
  }
  throw new Error(`live did not consume ${options.events} events in time`);
}

/** Growth of each worker's RSS from the first sample after `from` of the events to the last. */
export function rssGrowth(samples: readonly RssSample[], from = 0.1): number[] {
  const start = samples.find((s) => s.share >= from);
  const end = samples.at(-1);
  if (start === undefined || end === undefined) return [];
  return start.mb.map((mb, i) => (end.mb[i] - mb) / mb);
}
