/** Start, stop and inspect any {@linkcode Service} the same way. @module */
import { join } from "node:path";
import { HOST } from "../config.ts";
import { isAlive, launchDetached, readPid, terminateGroup } from "./process.ts";
import { LOG_DIR, rel, RUN_DIR } from "./paths.ts";
import { say, since, tail } from "./report.ts";
import type { Service } from "./service.ts";
import { describe, GiveUp, isPortOpen, waitFor, waitPortsFree } from "./wait.ts";

/** What `inspect` found. */
export type ServiceState =
  | { kind: "up"; pid: number }
  | { kind: "unready"; pid: number; error: unknown }
  | { kind: "other-ports"; pid: number; ports: string }
  | { kind: "external" }
  | { kind: "port-busy"; port: number }
  | { kind: "down" }
  | { kind: "skipped"; reason: string };

/** Log file of `service`. */
export function logFileOf(service: Service): string {
  return join(LOG_DIR, `${service.name}.log`);
}

function pidFileOf(service: Service): string {
  return join(RUN_DIR, `${service.name}.pid`);
}

const PROBE_ATTEMPT_MS = 10_000;

async function probeOnce(service: Service): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`probe took over ${PROBE_ATTEMPT_MS / 1000}s`)),
      PROBE_ATTEMPT_MS,
    );
  });
  try {
    await Promise.race([service.probe(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// Beside the pid file: the ports it was started with, so a run with other port variables
// does not mistake it for a service that is slow to come up.
function portsFileOf(service: Service): string {
  return join(RUN_DIR, `${service.name}.ports`);
}

function portsKey(service: Service): string {
  return service.ports.map((p) => p.port).join(",");
}

async function ourLivePid(service: Service): Promise<number | undefined> {
  const pid = await readPid(pidFileOf(service));
  return pid !== undefined && await isAlive(pid, service.marker) ? pid : undefined;
}

/** The pid (and process group) of `service` when this tree started it and it is alive. */
export function pidOf(service: Service): Promise<number | undefined> {
  return ourLivePid(service);
}

/** Finds out whether `service` runs, from its pid file, its ports and one probe. */
export async function inspect(service: Service): Promise<ServiceState> {
  const pid = await ourLivePid(service);
  if (pid !== undefined) {
    const ports = (await Deno.readTextFile(portsFileOf(service)).catch(() => "")).trim();
    if (ports && ports !== portsKey(service)) return { kind: "other-ports", pid, ports };
    try {
      await probeOnce(service);
      return { kind: "up", pid };
    } catch (error) {
      return { kind: "unready", pid, error };
    }
  }
  for (const { port } of service.ports) {
    if (!(await isPortOpen(port))) continue;
    try {
      await probeOnce(service);
      return { kind: "external" };
    } catch {
      return { kind: "port-busy", port };
    }
  }
  const reason = await service.skipReason?.();
  return reason ? { kind: "skipped", reason } : { kind: "down" };
}

function where(service: Service): string {
  return service.ports.map((p) => `${p.label} ${HOST}:${p.port}`).join(", ");
}

/**
 * Starts `service` unless it already runs, then waits until its probe passes.
 *
 * @returns `false` when it was skipped (see {@linkcode Service.skipReason}).
 * @throws {Error} When a port is taken, it exits early or is not ready in time; the
 * message names the log file and quotes its end.
 */
export async function start(service: Service): Promise<boolean> {
  const scope = service.name;
  const state = await inspect(service);
  switch (state.kind) {
    case "up":
      say(scope, `already up (pid ${state.pid}) on ${where(service)}`);
      return true;
    case "external":
      say(scope, `already served on ${where(service)} by a process not started from this tree`);
      say(scope, `  (not managed here: stack:down will leave it alone)`);
      return true;
    case "unready":
      say(scope, `running (pid ${state.pid}) but not ready yet; waiting`);
      await waitReady(service, state.pid, performance.now());
      return true;
    case "other-ports":
      throw new Error(
        `${scope}: already runs from this tree (pid ${state.pid}) on port(s) ${state.ports}; ` +
          `stop it first (stack:down ${scope}) or use the same port variables`,
      );
    case "port-busy": {
      const p = service.ports.find((p) => p.port === state.port)!;
      throw new Error(
        `${scope}: port ${state.port} (${p.label}) is taken by another program that does not ` +
          `answer as ${scope}; stop it or choose another port with ${p.envName}=<port>`,
      );
    }
    case "skipped":
      say(scope, `skipped: ${state.reason}`);
      return false;
  }
  const begin = performance.now();
  await service.prepare?.();
  const logFile = logFileOf(service);
  const pid = await launchDetached({ ...service.command(), logFile, pidFile: pidFileOf(service) });
  await Deno.writeTextFile(portsFileOf(service), `${portsKey(service)}\n`);
  say(scope, `started pid ${pid} (log ${rel(logFile)}); waiting for ${where(service)}`);
  await waitReady(service, pid, begin);
  return true;
}

async function waitReady(service: Service, pid: number, begin: number): Promise<void> {
  const logFile = logFileOf(service);
  try {
    await waitFor(
      async () => {
        if (!(await isAlive(pid, service.marker))) {
          throw new GiveUp(`${service.name} exited during startup`);
        }
        await probeOnce(service);
      },
      { timeoutMs: service.readyTimeoutMs },
      (last) =>
        new Error(
          `${service.name} not ready within ${service.readyTimeoutMs / 1000}s ` +
            `(last probe: ${describe(last)})`,
        ),
    );
  } catch (error) {
    if (await isAlive(pid, service.marker)) {
      await terminateGroup(pid, service.marker, service.stopGraceMs).catch(() => {});
    }
    throw new Error(
      `${error instanceof Error ? error.message : error}; see ${rel(logFile)}:\n${await tail(
        logFile,
      )}\n  (if its data under .stack/ is damaged: deno task stack:down --purge, then up again)`,
      { cause: error },
    );
  }
  say(service.name, `ready on ${where(service)} in ${since(begin)} (pid ${pid})`);
}

/**
 * Stops `service` if this tree started it, and waits until its ports are free.
 *
 * @throws {Error} When it does not die or its ports stay taken.
 */
export async function stop(service: Service): Promise<void> {
  const scope = service.name;
  const pid = await ourLivePid(service);
  if (pid === undefined) {
    await Deno.remove(pidFileOf(service)).catch(() => {});
    const busy = [];
    for (const p of service.ports) if (await isPortOpen(p.port)) busy.push(p.port);
    say(
      scope,
      busy.length === 0
        ? "already down"
        : `not started from this tree, but port ${busy.join(", ")} is in use: left alone`,
    );
    return;
  }
  const begin = performance.now();
  say(scope, `stopping pid ${pid} …`);
  const how = await terminateGroup(pid, service.marker, service.stopGraceMs);
  await waitPortsFree(service.ports.map((p) => p.port), 10_000);
  await Deno.remove(pidFileOf(service)).catch(() => {});
  await Deno.remove(portsFileOf(service)).catch(() => {});
  say(
    scope,
    `stopped (${how === "term" ? "SIGTERM" : "SIGKILL after grace period"}) in ${since(begin)}`,
  );
}

/** One status line for `service`, and whether it counts as up. */
export async function statusLine(service: Service): Promise<{ line: string; up: boolean }> {
  const state = await inspect(service);
  const name = service.name.padEnd(12);
  const ports = where(service);
  const log = rel(logFileOf(service));
  switch (state.kind) {
    case "up":
      return { line: `${name} up         ${ports}  pid ${state.pid}  log ${log}`, up: true };
    case "external":
      return { line: `${name} up         ${ports}  (not started from this tree)`, up: true };
    case "unready":
      return {
        line: `${name} not ready  ${ports}  pid ${state.pid}: ${describe(state.error)}  log ${log}`,
        up: false,
      };
    case "other-ports":
      return {
        line:
          `${name} up         port(s) ${state.ports} (not ${ports})  pid ${state.pid}  log ${log}`,
        up: false,
      };
    case "port-busy":
      return {
        line: `${name} down       ${ports}  (port ${state.port} taken by another program)`,
        up: false,
      };
    case "skipped":
      return { line: `${name} skipped    ${ports}  (${state.reason})`, up: true };
    case "down":
      return { line: `${name} down       ${ports}`, up: false };
  }
}
