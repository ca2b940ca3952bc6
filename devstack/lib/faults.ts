/**
 * The faults of the fault suite (issue 9) as steps over one shared stage: a scenario whose
 * seeded workload writes while the relay redelivers a share of its records, and the live
 * worker of the moment. Each step injects its fault while the workload writes, then the run
 * waits for every customer's total to equal MongoDB's `$group` and reports its figures. The
 * CI tests run single steps; `deno task soak` runs them in a row. Outage faults add steps.
 *
 * @module
 */
import type { Collection } from "mongodb";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoStore } from "../../src/state/dynamodb/store.ts";
import type { Handoff } from "../../src/state/store.ts";
import { ddbClientConfig } from "./env.ts";
import { FaultWorkload, type FaultWorkloadOptions } from "./fault_workload.ts";
import type { Relay } from "./kafka.ts";
import type { RelayOptions } from "../debezium/relay.ts";
import { relayedScenario } from "./relayed.ts";
import {
  LiveWorker,
  nextHttpPort,
  orderstats,
  type Scenario,
  spawnOrderstats,
  stackFlags,
} from "./scenario.ts";
import { rng } from "./workload.ts";
import { formatTotals, type TotalsCheck, waitForTotals } from "./totals_check.ts";

/** What the faults act on; `worker` is the live worker between faults (a fault may replace it). */
export interface FaultStage {
  s: Scenario;
  orders: Collection;
  relay: Relay;
  workload: FaultWorkload;
  /** Seeded: when faults strike. */
  random: () => number;
  /** Flags of every live worker besides the scenario's (e.g. a short session timeout). */
  workerFlags: string[];
  worker?: LiveWorker;
}

/** What a fault reports besides the totals. */
export interface FaultOutcome {
  kills?: number;
  /** Seconds a worker took to exit on SIGTERM. */
  exitSeconds?: number;
  /** Outages: seconds from the service being back until the worker worked again. */
  resumeSeconds?: number;
  /** Outages: whether the worker exited during the fault (it must not). */
  workerExited?: boolean;
  detail?: string;
}

/** The workload's progress during one fault. */
export interface FaultWrites {
  /** Operations the workload applies during the fault. */
  events: number;
  /** Operations applied so far during the fault. */
  done(): number;
}

/** A fault: injects itself while the workload writes, and leaves a live worker running. */
export interface Fault {
  name: string;
  inject(stage: FaultStage, writes: FaultWrites): Promise<FaultOutcome>;
}

/** One fault's figures. */
export interface FaultFigures extends FaultOutcome {
  fault: string;
  totals: TotalsCheck;
  /** Workload operations during the fault. */
  events: number;
  /** CDC records the relay delivered twice during the fault. */
  duplicated: number;
  /** Seconds from the end of the fault and its writes to exact totals. */
  recoverSeconds: number;
  seconds: number;
}

/** Options for {@link openStage}. */
export interface StageOptions {
  prefix: string;
  workload: FaultWorkloadOptions;
  /** Share of CDC records the relay delivers twice. */
  duplicateShare: number;
  partitions?: number;
  workerFlags?: string[];
  /** More relay options (e.g. a send retry that rides out a broker outage). */
  relay?: Partial<RelayOptions>;
}

/** A fresh stage (no worker yet); `await using` it to stop its worker and relay and drop it all. */
export async function openStage(
  options: StageOptions,
): Promise<FaultStage & AsyncDisposable> {
  const scene = await relayedScenario(options.prefix, options.partitions ?? 3, [], {
    duplicateShare: options.duplicateShare,
    duplicateSeed: options.workload.seed,
    ...options.relay,
  });
  const stage: FaultStage = {
    s: scene.s,
    orders: scene.orders,
    relay: scene.relay,
    workload: new FaultWorkload(scene.orders, options.workload),
    random: rng(options.workload.seed ^ 0x5eed),
    workerFlags: options.workerFlags ?? [],
  };
  return Object.assign(stage, {
    async [Symbol.asyncDispose]() {
      await stage.worker?.stop("SIGKILL");
      await scene[Symbol.asyncDispose]();
    },
  });
}

/** Runs `fault` while the workload applies `events` operations, then checks the totals. */
export async function runFault(
  stage: FaultStage,
  fault: Fault,
  { events, timeoutMs = 180_000, ratePerSecond }: {
    events: number;
    timeoutMs?: number;
    /** Spread the writes over time, so they go on through a fault that lasts. */
    ratePerSecond?: number;
  },
): Promise<FaultFigures> {
  const started = performance.now();
  const ops = stage.workload.stats.ops;
  const duplicated = stage.relay.stats.duplicated;
  const stop = new AbortController();
  const writes = stage.workload.run(events, { signal: stop.signal, ratePerSecond });
  let outcome: FaultOutcome;
  try {
    outcome = await fault.inject(stage, { events, done: () => stage.workload.stats.ops - ops });
  } catch (error) {
    stop.abort();
    await writes.catch(() => {});
    throw error;
  }
  await writes;
  const calm = performance.now();
  const totals = await waitForTotals(stage.s, stage.orders, timeoutMs);
  const ended = performance.now();
  return {
    fault: fault.name,
    ...outcome,
    totals,
    events: stage.workload.stats.ops - ops,
    duplicated: stage.relay.stats.duplicated - duplicated,
    recoverSeconds: (ended - calm) / 1000,
    seconds: (ended - started) / 1000,
  };
}

/** One line of figures, e.g. `live kill -9: mismatched 0/203 customers, kills 20, …`. */
export function formatFigures(f: FaultFigures): string {
  const parts = [
    formatTotals(f.totals),
    `events ${f.events}`,
    `duplicated ${f.duplicated}`,
    ...(f.kills === undefined ? [] : [`kills ${f.kills}`]),
    ...(f.exitSeconds === undefined ? [] : [`SIGTERM exit ${f.exitSeconds.toFixed(1)} s`]),
    ...(f.workerExited === undefined ? [] : [`worker exited: ${f.workerExited ? "yes" : "no"}`]),
    ...(f.resumeSeconds === undefined ? [] : [`resumed ${f.resumeSeconds.toFixed(1)} s after`]),
    `recovered in ${f.recoverSeconds.toFixed(1)} s`,
    `total ${f.seconds.toFixed(0)} s`,
  ];
  return `${f.fault}: ${parts.join(", ")}${f.detail ? ` (${f.detail})` : ""}`;
}

/** Starts a live worker of the stage (stderr captured); `flags` replace the stage's. */
export function startStageWorker(stage: FaultStage, flags = stage.workerFlags): LiveWorker {
  return new LiveWorker([...stackFlags(stage.s), ...flags], nextHttpPort(), "live", {
    captureStderr: true,
  });
}

/** The stage's worker, or an error naming the fault that needs one. */
export function requireWorker(stage: FaultStage, fault: string): LiveWorker {
  if (!stage.worker) throw new Error(`${fault}: needs a running live worker`);
  return stage.worker;
}

/** A worker's metrics, empty while it does not answer yet. */
export async function metricsOf(worker: LiveWorker): Promise<Map<string, number>> {
  return await worker.metrics().catch(() => new Map<string, number>());
}

/** CDC messages a worker decoded so far (`orderstats_events_total`, all outcomes). */
export function eventsOf(metrics: Map<string, number>): number {
  return [...metrics].filter(([k]) => k.startsWith("orderstats_events_total"))
    .reduce((n, [, v]) => n + v, 0);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until it holds; fails naming `what` after `timeoutMs`. */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  { timeoutMs = 90_000, everyMs = 100 } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(everyMs);
  }
}

/**
 * kill -9 of the live worker `kills` times, restarted each time, spread over the fault's
 * writes (kill k once a seeded point of the k-th slice of them is written). A seeded half of
 * the kills strike up to 1.5 s after the worker joined its group (mid-batch or between
 * batches), the others up to `maxDelayMs` after its start (starting, joining, catching up).
 */
export function liveKills(kills: number, maxDelayMs = 5_000): Fault {
  return {
    name: "live kill -9",
    async inject(stage, writes) {
      let afterApplying = 0;
      for (let kill = 1; kill <= kills; kill++) {
        const worker = requireWorker(stage, this.name);
        const due = Math.floor(writes.events * (kill - 1 + stage.random()) / kills);
        await until(`${due} writes before kill ${kill}`, () => writes.done() >= due, {
          timeoutMs: Infinity,
        });
        if (stage.random() < 0.5) {
          await joined(worker);
          await sleep(stage.random() * 1_500);
        } else await sleep(300 + stage.random() * maxDelayMs);
        if (eventsOf(await metricsOf(worker)) > 0) afterApplying++;
        const { code } = await worker.stop("SIGKILL");
        if (code !== 137) {
          throw new Error(`kill ${kill}: the worker had exited ${code} already:\n${worker.stderr}`);
        }
        stage.worker = startStageWorker(stage);
      }
      return { kills, detail: `${afterApplying} after the worker had applied events` };
    },
  };
}

/** The pipeline's handoff row. */
async function readHandoff(s: Scenario): Promise<Handoff | undefined> {
  await using store = new DynamoStore({
    client: new DynamoDBClient(ddbClientConfig()),
    table: s.table,
  });
  return await store.readHandoff(s.pipeline);
}

/**
 * kill -9 of the bootstrap at a seeded moment up to `maxDelayMs` into its scan (the workload
 * writing meanwhile), then a re-run as an operator would: refused (exit 4) while the dead
 * run's lease holds, run again from the time the refusal names. Then a live worker starts.
 */
export function bootstrapKill(maxDelayMs = 1_000): Fault {
  return {
    name: "bootstrap kill -9 mid-scan",
    async inject(stage) {
      if (stage.worker) throw new Error(`${this.name}: runs before any live worker`);
      const args = ["--mode=bootstrap", ...stackFlags(stage.s), "--bad-records-file=/dev/null"];
      const attempts = await killMidScan(stage, args, maxDelayMs);
      const killed = performance.now();
      const refusals = await rerunAfterLease(args);
      const seconds = (performance.now() - killed) / 1000;
      stage.worker = startStageWorker(stage);
      return {
        kills: 1,
        detail: `killed on attempt ${attempts}, re-run refused ${refusals}× while the ` +
          `dead run's lease held, ` +
          `done ${seconds.toFixed(0)} s after the kill`,
      };
    },
  };
}

/**
 * Kills a bootstrap mid-scan: if one finished before its seeded moment, the next is killed
 * sooner (a finished bootstrap may run again until live mode starts). Returns the attempts.
 */
async function killMidScan(stage: FaultStage, args: string[], maxDelayMs: number) {
  for (let attempt = 1, window = maxDelayMs; attempt <= 5; attempt++, window /= 2) {
    if (await killBootstrap(args, stage.random() * window)) {
      const status = (await readHandoff(stage.s))?.status;
      if (status !== "running") {
        throw new Error(`killed a bootstrap that was not running: ${status}`);
      }
      return attempt;
    }
  }
  throw new Error("5 bootstraps in a row finished before they could be killed");
}

/**
 * Starts a bootstrap and kills it `delayMs` after it logged its start (its claim taken);
 * false if it finished first.
 */
async function killBootstrap(args: string[], delayMs: number): Promise<boolean> {
  const child = spawnOrderstats(args);
  void child.stdout.cancel();
  let stderr = "";
  const drained = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (chunk) => void (stderr += chunk) }),
  );
  let exited = false;
  void child.status.then(() => exited = true);
  await until("the bootstrap to start", () => {
    if (exited) throw new Error(`the bootstrap exited before it started:\n${stderr}`);
    return stderr.includes('"bootstrap started"');
  }, { everyMs: 20 });
  await sleep(delayMs);
  if (!exited) child.kill("SIGKILL");
  const { code } = await child.status;
  await drained;
  if (code !== 137 && code !== 0) throw new Error(`the bootstrap exited ${code}:\n${stderr}`);
  return code === 137;
}

/** Runs the bootstrap until it succeeds, waiting out the claim each refusal names. */
async function rerunAfterLease(args: string[]): Promise<number> {
  for (let refusals = 0; refusals < 5; refusals++) {
    const { code, stderr } = await orderstats(args);
    if (code === 0) return refusals;
    const from = stderr.match(/can take over from (\S+?Z)/)?.[1];
    if (code !== 4 || !from) throw new Error(`bootstrap re-run exited ${code}:\n${stderr}`);
    await sleep(Math.max(0, Date.parse(from) - Date.now()) + 500);
  }
  throw new Error("bootstrap re-run still refused after 5 tries");
}

/**
 * SIGTERM while the worker has a batch in hand: the worker is stopped, a backlog of
 * `backlog` records builds up, a new worker starts and gets SIGTERM as soon as it decoded
 * messages (before its first batch was durable, when it catches that moment); restarted.
 */
export function sigtermMidBatch(backlog = 300): Fault {
  return {
    name: "SIGTERM mid-batch",
    async inject(stage) {
      await stopJoined(requireWorker(stage, this.name));
      const mark = stage.relay.stats.records;
      await until(`a backlog of ${backlog} records`, () => {
        return stage.relay.stats.records - mark >= backlog;
      });
      const worker = startStageWorker(stage);
      let metrics = new Map<string, number>();
      await until("the worker to decode messages", async () => {
        metrics = await metricsOf(worker);
        return eventsOf(metrics) > 0;
      }, { everyMs: 10 });
      const stopped = await stopCleanly(worker);
      stage.worker = startStageWorker(stage);
      const inBatch = (metrics.get("orderstats_batch_seconds_count") ?? 0) === 0;
      return {
        exitSeconds: stopped.seconds,
        // The worker starts at the group's committed offsets, which can be before the mark.
        detail: `SIGTERM after ${eventsOf(metrics)} records decoded (${
          stage.relay.stats.records - mark
        } relayed while no worker ran), ${
          inBatch ? "inside its first batch" : "after a batch was durable"
        }`,
      };
    },
  };
}

/** Resolves once the worker joined its consumer group (its log says so). */
export function joined(worker: LiveWorker): Promise<void> {
  return until("the worker to join", () => worker.stderr.includes('"joined consumer group"'));
}

/** SIGTERM once the worker joined, expecting exit 0 within 10 s. */
async function stopJoined(worker: LiveWorker): Promise<{ seconds: number }> {
  await joined(worker);
  return await stopCleanly(worker);
}

/** SIGTERM, expecting exit 0 within 10 s. */
async function stopCleanly(worker: LiveWorker): Promise<{ seconds: number }> {
  const { code, seconds } = await worker.stop("SIGTERM");
  if (code !== 0 || seconds > 10) {
    throw new Error(`SIGTERM: exit ${code} after ${seconds.toFixed(1)} s:\n${worker.stderr}`);
  }
  return { seconds };
}

/** The stage's worker flags without a session timeout: the default 30 s. */
function defaultSession(stage: FaultStage): string[] {
  return stage.workerFlags.filter((flag) => !flag.startsWith("--kafka-session-timeout-ms"));
}

/**
 * SIGTERM while the group is still forming after a crash: a worker with the default 30 s
 * session is killed, a new one starts, takes the handoff and waits in the group join (for the
 * dead member's session to end) when it gets SIGTERM. Then a worker starts again.
 */
export function sigtermWhileForming(settleMs = 1_500): Fault {
  return {
    name: "SIGTERM while the group forms",
    async inject(stage) {
      await stopJoined(requireWorker(stage, this.name));
      const crashed = startStageWorker(stage, defaultSession(stage));
      await joined(crashed);
      await crashed.stop("SIGKILL");
      const worker = startStageWorker(stage, defaultSession(stage));
      await until("the worker to take the handoff", () => worker.stderr.includes('"handoff"'));
      await sleep(settleMs);
      if (worker.stderr.includes('"joined consumer group"')) {
        throw new Error(`${this.name}: the worker joined before the SIGTERM`);
      }
      const stopped = await stopCleanly(worker);
      stage.worker = startStageWorker(stage);
      return { kills: 1, exitSeconds: stopped.seconds, detail: "SIGTERM before it joined" };
    },
  };
}
