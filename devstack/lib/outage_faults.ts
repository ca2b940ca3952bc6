/**
 * Infrastructure faults as steps of the fault suite (lib/faults.ts): the Kafka broker
 * stopped and started again, DynamoDB frozen and thawed. They act on private instances
 * (lib/private_services.ts) that the stage points at, never on the shared stack, and wait
 * for real signs of recovery: the worker's /metrics and /readyz.
 *
 * @module
 */
import { eventsOf, type Fault, metricsOf, requireWorker, until } from "./faults.ts";
import type { PrivateService } from "./private_services.ts";
import type { LiveWorker } from "./scenario.ts";
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

/** Waits until the worker has decoded messages (it is mid-stream). */
async function midStream(worker: LiveWorker): Promise<void> {
  await until("the worker to apply events", async () => eventsOf(await metricsOf(worker)) > 0);
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
      await midStream(worker);
      await broker.stop();
      await delay(outageMs);
      await broker.start();
      const back = performance.now();
      const mark = eventsOf(await metricsOf(worker));
      await until(
        "the worker to decode messages again after the broker came back",
        async () => (await hasExited(worker)) || eventsOf(await metricsOf(worker)) > mark,
        { timeoutMs: RESUME_TIMEOUT_MS, everyMs: 250 },
      );
      return { resumeSeconds: secondsSince(back), workerExited: await hasExited(worker) };
    },
  };
}

/**
 * DynamoDB frozen (SIGSTOP) for `outageMs` while the worker consumes, then thawed. The
 * worker's /readyz must say 503 while the store does not answer (else the step fails) and
 * 200 again by itself once it does; the worker must not exit.
 */
export function storeFreeze(store: PrivateService, outageMs = 30_000): Fault {
  return {
    name: `DynamoDB frozen ${outageMs / 1000} s`,
    async inject(stage) {
      const worker = requireWorker(stage, this.name);
      await midStream(worker);
      const frozen = performance.now();
      await store.freeze();
      await until(
        "/readyz to say 503 while DynamoDB is frozen",
        async () => (await readiness(worker)) === 503,
        { timeoutMs: outageMs, everyMs: 250 },
      ).catch(async (error) => {
        await store.thaw();
        throw error;
      });
      const notReady = secondsSince(frozen);
      await delay(Math.max(0, outageMs - notReady * 1000));
      await store.thaw();
      const thawed = performance.now();
      // Ready again means a DynamoDB request succeeded: the worker writes again.
      await until(
        "/readyz to say 200 again after DynamoDB came back",
        async () => (await hasExited(worker)) || (await readiness(worker)) === 200,
        { timeoutMs: RESUME_TIMEOUT_MS, everyMs: 250 },
      );
      return {
        resumeSeconds: secondsSince(thawed),
        workerExited: await hasExited(worker),
        detail: `/readyz said 503 ${notReady.toFixed(1)} s into the freeze`,
      };
    },
  };
}
