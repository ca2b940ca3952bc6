/**
 * Infrastructure faults as steps of the fault suite (lib/faults.ts): the Kafka broker
 * stopped and started again, DynamoDB frozen and thawed, workers joining and leaving the
 * consumer group. Outages act on private instances (lib/private_services.ts) that the stage
 * points at, never on the shared stack. Each waits for real signs (the workers' logs,
 * /metrics and /readyz), never for a fixed time.
 *
 * @module
 */
import {
  eventsOf,
  type Fault,
  type FaultFigures,
  metricsOf,
  openStage,
  requireWorker,
  runFault,
  startStageWorker,
  until,
} from "./faults.ts";
import type { FaultWorkloadOptions } from "./fault_workload.ts";
import {
  pointStackAt,
  privateDynamodb,
  privateKafka,
  type PrivateService,
} from "./private_services.ts";
import { type LiveWorker, orderstatsOk, stackFlags } from "./scenario.ts";
import { delay } from "./wait.ts";

/** How long a worker may take to work again once the service is back. */
const RESUME_TIMEOUT_MS = 120_000;

/** The worker's /readyz status code (0 when it does not answer). */
export async function readiness(worker: LiveWorker): Promise<number> {
  try {
    const response = await fetch(`http://127.0.0.1:${worker.port}/readyz`, {
      signal: AbortSignal.timeout(2_000),
    });
    await response.body?.cancel();
    return response.status;
  } catch {
    return 0;
  }
}

/** True once the worker's process has exited. */
export async function hasExited(worker: LiveWorker): Promise<boolean> {
  return await Promise.race([worker.process.status.then(() => true), delay(0).then(() => false)]);
}

const secondsSince = (start: number) => (performance.now() - start) / 1000;

/** Waits until the worker has decoded messages (it is mid-stream); returns the seconds. */
async function midStream(worker: LiveWorker): Promise<number> {
  const start = performance.now();
  await until("the worker to apply events", async () => eventsOf(await metricsOf(worker)) > 0);
  return secondsSince(start);
}

/**
 * The broker stopped for `outageMs` while the worker consumes, then started again (its log
 * dir kept). The worker must wait and resume by itself, without exiting.
 */
export function brokerOutage(broker: PrivateService, outageMs = 20_000): Fault {
  return {
    name: `broker stopped ${outageMs / 1000} s`,
    async inject(stage) {
      const worker = requireWorker(stage, this.name);
      const waited = await midStream(worker);
      await broker.stop();
      await delay(outageMs);
      const starting = performance.now();
      await broker.start();
      const back = performance.now();
      const startSeconds = (back - starting) / 1000;
      const mark = eventsOf(await metricsOf(worker));
      await until(
        "the worker to decode messages again after the broker came back",
        async () => (await hasExited(worker)) || eventsOf(await metricsOf(worker)) > mark,
        { timeoutMs: RESUME_TIMEOUT_MS, everyMs: 250 },
      );
      return {
        resumeSeconds: secondsSince(back),
        workerExited: await hasExited(worker),
        detail: `stopped ${waited.toFixed(1)} s after the fault began, once the worker applied ` +
          `events; the broker took ${startSeconds.toFixed(1)} s to start again`,
      };
    },
  };
}

/** How a store outage begins and ends. */
interface StoreOutage {
  name: string;
  /** What the outage is called in messages, e.g. "frozen". */
  state: string;
  begin(): Promise<void>;
  end(): Promise<void>;
  outageMs: number;
}

/**
 * DynamoDB out for `outageMs` while the worker consumes. The worker's /readyz must say 503
 * while the store does not answer (else the step fails) and 200 again by itself once it does;
 * the worker must not exit.
 */
function storeOutage(outage: StoreOutage): Fault {
  return {
    name: outage.name,
    async inject(stage) {
      const worker = requireWorker(stage, this.name);
      await midStream(worker);
      const began = performance.now();
      await outage.begin();
      await until(
        `/readyz to say 503 while DynamoDB is ${outage.state}`,
        async () => (await readiness(worker)) === 503,
        { timeoutMs: outage.outageMs, everyMs: 250 },
      ).catch(async (error) => {
        await outage.end();
        throw error;
      });
      const notReady = secondsSince(began);
      await delay(Math.max(0, outage.outageMs - notReady * 1000));
      await outage.end();
      const back = performance.now();
      // Ready again means a DynamoDB request succeeded: the worker writes again.
      await until(
        "/readyz to say 200 again after DynamoDB came back",
        async () => (await hasExited(worker)) || (await readiness(worker)) === 200,
        { timeoutMs: RESUME_TIMEOUT_MS, everyMs: 250 },
      );
      return {
        resumeSeconds: secondsSince(back),
        workerExited: await hasExited(worker),
        detail: `/readyz said 503 ${notReady.toFixed(1)} s after DynamoDB was ${outage.state}`,
      };
    },
  };
}

/** DynamoDB frozen (SIGSTOP) for `outageMs`: it accepts connections and never answers. */
export function storeFreeze(store: PrivateService, outageMs = 30_000): Fault {
  return storeOutage({
    name: `DynamoDB frozen ${outageMs / 1000} s`,
    state: "frozen",
    begin: () => store.freeze(),
    end: () => store.thaw(),
    outageMs,
  });
}

/** DynamoDB stopped for `outageMs` and started again, its tables kept on disk. */
export function storeRestart(store: PrivateService, outageMs = 10_000): Fault {
  return storeOutage({
    name: `DynamoDB restarted (down ${outageMs / 1000} s, data on disk)`,
    state: "stopped",
    begin: () => store.stop(),
    end: () => store.start(),
    outageMs,
  });
}

/** Runs `faults` one after the other as one fault: the latest figures, every detail. */
export function inSequence(faults: Fault[]): Fault {
  return {
    name: faults.map((f) => f.name).join(", then "),
    async inject(stage, writes) {
      const outcomes = [];
      for (const fault of faults) outcomes.push(await fault.inject(stage, writes));
      return {
        resumeSeconds: Math.max(...outcomes.map((o) => o.resumeSeconds ?? 0)),
        workerExited: outcomes.some((o) => o.workerExited),
        detail: outcomes.map((o) => o.detail).filter(Boolean).join("; "),
      };
    },
  };
}

/** The partitions of the worker's latest group assignment (its last "joined" log line). */
export function assignedPartitions(worker: LiveWorker): number {
  const joins = worker.stderr.split("\n").filter((line) =>
    line.includes('"joined consumer group"')
  );
  const last = joins.at(-1);
  if (last === undefined) return 0;
  const assignment = (JSON.parse(last).assignment ?? {}) as Record<string, number[]>;
  return Object.values(assignment).reduce((n, partitions) => n + partitions.length, 0);
}

/** Waits until `worker` holds partitions of the group and has decoded messages of them. */
async function working(worker: LiveWorker, which: string): Promise<void> {
  await until(`${which} to be assigned partitions`, async () => {
    if (await hasExited(worker)) throw new Error(`${which} exited:\n${worker.stderr}`);
    return assignedPartitions(worker) > 0;
  }, { timeoutMs: RESUME_TIMEOUT_MS, everyMs: 250 });
  await until(
    `${which} to apply events of its partitions`,
    async () => eventsOf(await metricsOf(worker)) > 0,
    { timeoutMs: RESUME_TIMEOUT_MS, everyMs: 250 },
  );
}

/** Sums a metric over workers, by series (`name{labels}`), failing when none exposes it. */
function sumSeries(all: Map<string, number>[], name: string): Map<string, number> {
  const sums = new Map<string, number>();
  for (const metrics of all) {
    for (const [series, value] of metrics) {
      if (series === name || series.startsWith(`${name}{`)) {
        sums.set(series, (sums.get(series) ?? 0) + value);
      }
    }
  }
  if (sums.size === 0) throw new Error(`no worker exposes ${name} on /metrics`);
  return sums;
}

/**
 * A second and a third worker join the group while the first consumes (two rebalances),
 * each must get partitions and apply events; then the second leaves with SIGTERM (exit 0)
 * and the third with kill -9 (its partitions move after its session times out). With a hot
 * customer written from every partition, transactions conflict: the figures report
 * `orderstats_ledger_busy_total` and `orderstats_ledger_conflicts_total` over all workers.
 */
export function workersJoinLeave(partitions = 3): Fault {
  return {
    name: "workers 2 and 3 join and leave",
    async inject(stage) {
      await midStream(requireWorker(stage, this.name));
      const second = startStageWorker(stage);
      await working(second, "the second worker");
      const third = startStageWorker(stage);
      await working(third, "the third worker");
      const metrics = await Promise.all([stage.worker!, second, third].map(metricsOf));
      const { code } = await second.stop("SIGTERM");
      if (code !== 0) throw new Error(`the second worker exited ${code} on SIGTERM`);
      await third.stop("SIGKILL");
      // The first worker takes every partition back.
      await until(
        "the first worker to hold all partitions again",
        () => assignedPartitions(stage.worker!) === partitions,
        { timeoutMs: RESUME_TIMEOUT_MS, everyMs: 250 },
      );
      metrics[0] = await metricsOf(stage.worker!);
      const busy = sumSeries(metrics, "orderstats_ledger_busy_total");
      const conflicts = [...sumSeries(metrics, "orderstats_ledger_conflicts_total").values()];
      return {
        workerExited: await hasExited(stage.worker!),
        detail: `ledger busy ${
          [...busy].map(([series, n]) => `${series.slice(series.indexOf("{"))} ${n}`).join(", ")
        }, conflicts ${conflicts.reduce((a, b) => a + b, 0)}`,
      };
    },
  };
}

/** Sizes of one infrastructure fault run. */
export interface InfraRunOptions {
  seed: number;
  /** Orders seeded before the bootstrap. */
  orders: number;
  /** Workload operations during the fault. */
  events: number;
  /** Their pace, so changes keep coming while the fault lasts; unset: as fast as they go. */
  ratePerSecond?: number;
}

const WORKLOAD: Omit<FaultWorkloadOptions, "seed"> = {
  customers: 40,
  hotCustomers: 2,
  hotShare: 0.3,
  idSpace: 1_500,
};
// The relay rides out a broker outage as Kafka Connect would: it keeps retrying its sends.
const RELAY_RETRY = { retry: { retries: 60, initialRetryTime: 300, maxRetryTime: 2_000 } };

/** Seeds and bootstraps a fresh stage, starts a worker, runs `fault` while the workload writes. */
async function onFreshStage(
  fault: Fault,
  run: InfraRunOptions,
  stageOptions: { workload?: Partial<FaultWorkloadOptions>; sessionMs: number },
): Promise<FaultFigures> {
  await using stage = await openStage({
    prefix: "infra",
    workload: { ...WORKLOAD, ...stageOptions.workload, seed: run.seed },
    duplicateShare: 0.1,
    workerFlags: [`--kafka-session-timeout-ms=${stageOptions.sessionMs}`],
    relay: RELAY_RETRY,
  });
  await stage.workload.seed(run.orders);
  await orderstatsOk(["--mode=bootstrap", ...stackFlags(stage.s), "--bad-records-file=/dev/null"]);
  stage.worker = startStageWorker(stage);
  return await runFault(stage, fault, run);
}

/** {@linkcode brokerOutage} on a stage of its own over a private broker. */
export async function runBrokerOutage(run: InfraRunOptions, outageMs = 20_000) {
  await using broker = await privateKafka("outage");
  using _stack = pointStackAt({ kafka: broker });
  return await onFreshStage(brokerOutage(broker, outageMs), run, { sessionMs: 10_000 });
}

/**
 * {@linkcode storeFreeze}, then {@linkcode storeRestart}, on a stage of its own over a private
 * DynamoDB Local.
 */
export async function runStoreOutages(run: InfraRunOptions, freezeMs = 30_000) {
  await using store = await privateDynamodb("outage");
  using _stack = pointStackAt({ dynamodb: store });
  const fault = inSequence([storeFreeze(store, freezeMs), storeRestart(store)]);
  return await onFreshStage(fault, run, { sessionMs: 10_000 });
}

/** {@linkcode workersJoinLeave} on a stage of its own, one customer taking half the changes. */
export async function runWorkersJoinLeave(run: InfraRunOptions) {
  return await onFreshStage(workersJoinLeave(3), run, {
    workload: { hotCustomers: 1, hotShare: 0.5 },
    sessionMs: 6_000,
  });
}
