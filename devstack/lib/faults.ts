/**
 * Infrastructure faults a live worker must ride out, as steps the fault tests and the soak
 * task share: the broker stopped and started again, DynamoDB frozen and thawed. Each takes
 * the private services (lib/private_services.ts) and the worker, injects the fault, waits
 * for real signs of recovery (the worker's /readyz and /metrics) and returns its figures.
 *
 * @module
 */
import type { PrivateService } from "./private_services.ts";
import type { LiveWorker } from "./scenario.ts";
import { delay } from "./wait.ts";

/** What one fault did to a worker. */
export interface FaultFigures {
  /** What was done, e.g. `"broker stopped 20 s"`. */
  fault: string;
  /** From the service being back until the worker works again (decodes, or is ready). */
  recoverSeconds: number;
  /** Whether the worker process exited during the fault or its recovery. */
  workerExited: boolean;
  /** With a store fault: seconds from the freeze until /readyz said 503 (undefined: never). */
  notReadyAfterSeconds?: number;
  /** With a store fault: seconds from the thaw until /readyz said 200 again. */
  readyAgainSeconds?: number;
}

/** CDC messages the worker has decoded so far (every outcome of `orderstats_events_total`). */
export async function eventsSeen(worker: LiveWorker): Promise<number> {
  const metrics = await worker.metrics().catch(() => new Map<string, number>());
  return [...metrics].filter(([k]) => k.startsWith("orderstats_events_total"))
    .reduce((n, [, v]) => n + v, 0);
}

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
  const exited = worker.process.status.then(() => true);
  return await Promise.race([exited, delay(0).then(() => false)]);
}

const seconds = (since: number) => Math.round((performance.now() - since) / 100) / 10;

/**
 * Polls `check` every 250 ms until it is true; returns the seconds it took.
 *
 * @throws {Error} After `timeoutMs`, naming `what`.
 */
async function until(what: string, check: () => Promise<boolean>, timeoutMs: number) {
  const begin = performance.now();
  while (!(await check())) {
    if (performance.now() - begin > timeoutMs) {
      throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    }
    await delay(250);
  }
  return seconds(begin);
}

/** Waits until the worker decodes messages again after `mark`, or it exits. */
async function progressAfter(worker: LiveWorker, mark: number, timeoutMs: number) {
  return await until(
    "the worker applied nothing after the fault",
    async () => (await hasExited(worker)) || (await eventsSeen(worker)) > mark,
    timeoutMs,
  );
}

/**
 * Stops the broker for `outageMs` mid-stream and starts it again. The caller keeps writes
 * flowing, so the worker has something to apply once the broker is back.
 */
export async function brokerOutage(
  broker: PrivateService,
  worker: LiveWorker,
  { outageMs = 20_000, recoverTimeoutMs = 120_000 } = {},
): Promise<FaultFigures> {
  await broker.stop();
  await delay(outageMs);
  await broker.start();
  const mark = await eventsSeen(worker);
  const recoverSeconds = await progressAfter(worker, mark, recoverTimeoutMs);
  return {
    fault: `broker stopped ${outageMs / 1000} s`,
    recoverSeconds,
    workerExited: await hasExited(worker),
  };
}

/**
 * Freezes DynamoDB (SIGSTOP) for `outageMs` mid-stream, then thaws it. Figures: how soon
 * /readyz said 503, how soon after the thaw it said 200 and the worker applied again.
 */
export async function storeFreeze(
  store: PrivateService,
  worker: LiveWorker,
  { outageMs = 30_000, recoverTimeoutMs = 120_000 } = {},
): Promise<FaultFigures> {
  const frozen = performance.now();
  await store.freeze();
  const notReadyAfterSeconds = await until(
    "/readyz kept saying 200 while DynamoDB was frozen",
    async () => (await readiness(worker)) === 503,
    outageMs,
  ).catch(() => undefined);
  await delay(Math.max(0, outageMs - (performance.now() - frozen)));
  await store.thaw();
  // Ready again means a DynamoDB request succeeded: the worker writes again.
  const readyAgainSeconds = await until(
    "/readyz did not say 200 again after DynamoDB came back",
    async () => (await hasExited(worker)) || (await readiness(worker)) === 200,
    recoverTimeoutMs,
  );
  return {
    fault: `DynamoDB frozen ${outageMs / 1000} s`,
    recoverSeconds: readyAgainSeconds,
    workerExited: await hasExited(worker),
    notReadyAfterSeconds,
    readyAgainSeconds,
  };
}

/** One line of figures, for test output and the soak report. */
export function describeFigures(f: FaultFigures): string {
  const parts = [
    `recovered in ${f.recoverSeconds} s`,
    `worker exited: ${f.workerExited ? "yes" : "no"}`,
  ];
  if ("readyAgainSeconds" in f) {
    parts.push(
      `/readyz 503 after ${f.notReadyAfterSeconds ?? "never"} s`,
      `200 again ${f.readyAgainSeconds} s after the thaw`,
    );
  }
  return `${f.fault}: ${parts.join(", ")}`;
}
