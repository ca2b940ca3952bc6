/**
 * Detached service processes: started in their own session so they outlive `stack.ts up`,
 * tracked by pid files, stopped by signalling their whole process group.
 *
 * @module
 */
import { dirname } from "node:path";
import { delay } from "./wait.ts";

/** What to run for one service. */
export interface LaunchSpec {
  /** Executable. */
  cmd: string;
  /** Its arguments. */
  args: string[];
  /** Working directory. */
  cwd: string;
  /** Extra environment variables (the parent's are inherited). */
  env?: Record<string, string>;
  /** Receives stdout and stderr; the previous one is kept as `<log>.1`. */
  logFile: string;
  /** Receives the pid. */
  pidFile: string;
}

// setsid puts the service in a new session and process group (pgid = pid) with no terminal,
// so it survives its parent; the inner bash writes its own pid, then execs the service.
const LAUNCHER = `log="$1"; pidfile="$2"; shift 2
setsid bash -c 'echo $$ > "$0"; exec "$@"' "$pidfile" "$@" >>"$log" 2>&1 </dev/null &`;

/**
 * Starts `spec` detached and returns its pid (also its process group id).
 *
 * @throws {Error} When the launcher fails or no pid appears within 5 s.
 */
export async function launchDetached(spec: LaunchSpec): Promise<number> {
  await Deno.mkdir(dirname(spec.logFile), { recursive: true });
  await Deno.mkdir(dirname(spec.pidFile), { recursive: true });
  await Deno.rename(spec.logFile, `${spec.logFile}.1`).catch(() => {});
  await Deno.remove(spec.pidFile).catch(() => {});
  await Deno.writeTextFile(
    spec.logFile,
    `=== ${new Date().toISOString()} (in ${spec.cwd}) ${[spec.cmd, ...spec.args].join(" ")}\n`,
  );
  const out = await new Deno.Command("bash", {
    args: ["-c", LAUNCHER, "launch", spec.logFile, spec.pidFile, spec.cmd, ...spec.args],
    cwd: spec.cwd,
    env: spec.env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`Cannot launch ${spec.cmd}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  for (let i = 0; i < 100; i++) {
    const pid = await readPid(spec.pidFile);
    if (pid !== undefined) return pid;
    await delay(50);
  }
  throw new Error(`${spec.cmd} was launched but wrote no pid to ${spec.pidFile} within 5 s`);
}

/** The pid recorded in `pidFile`, or `undefined` when there is none. */
export async function readPid(pidFile: string): Promise<number | undefined> {
  try {
    const pid = Number((await Deno.readTextFile(pidFile)).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * True when `pid` is a live process whose command line contains `marker` — so a pid reused
 * by an unrelated process after a reboot or crash does not count.
 */
export async function isAlive(pid: number, marker: string): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    // Field 3, after the parenthesised command name: Z is a zombie, X is dead.
    if (/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2))) return false;
    const cmdline = (await Deno.readTextFile(`/proc/${pid}/cmdline`)).replaceAll("\0", " ");
    return cmdline.includes(marker);
  } catch {
    return false;
  }
}

/**
 * Stops the process group `pid`: SIGTERM, then SIGKILL after `graceMs`.
 *
 * @returns How it ended: `"term"` or `"kill"`.
 * @throws {Error} When it is still alive 5 s after SIGKILL.
 */
export async function terminateGroup(
  pid: number,
  marker: string,
  graceMs: number,
): Promise<"term" | "kill"> {
  signalGroup(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!(await isAlive(pid, marker))) return "term";
    await delay(100);
  }
  signalGroup(pid, "SIGKILL");
  for (let i = 0; i < 50; i++) {
    if (!(await isAlive(pid, marker))) return "kill";
    await delay(100);
  }
  throw new Error(`process ${pid} is still alive after SIGKILL`);
}

/** Sends `signal` to the process group `pid`; a group that is gone already is no error. */
export function signalGroup(pid: number, signal: Deno.Signal): void {
  try {
    Deno.kill(-pid, signal);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}
