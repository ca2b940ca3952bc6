/** Running install commands to completion, their output kept in a log file. @module */
import { dirname } from "node:path";
import { rel } from "./paths.ts";
import { tail } from "./report.ts";

/** Options of {@linkcode runLogged}. */
export interface RunLoggedOptions {
  /** Working directory. */
  cwd?: string;
  /** Extra environment variables (the parent's are inherited). */
  env?: Record<string, string>;
  /** File that receives stdout and stderr (appended). */
  logFile: string;
}

/**
 * Runs `cmd args…` to completion with its output appended to `logFile`.
 *
 * @throws {Error} When it cannot start or exits non-zero; the message names the log and
 * quotes its last lines.
 */
export async function runLogged(cmd: string, args: string[], options: RunLoggedOptions) {
  const { cwd, env, logFile } = options;
  await Deno.mkdir(dirname(logFile), { recursive: true });
  using log = await Deno.open(logFile, { append: true, create: true });
  const header = `\n=== ${new Date().toISOString()} ${cwd ? `(in ${rel(cwd)}) ` : ""}${
    [cmd, ...args].join(" ")
  }\n`;
  await log.write(new TextEncoder().encode(header));
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(cmd, {
      args,
      cwd,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    })
      .spawn();
  } catch (error) {
    throw new Error(`Cannot run ${cmd}: ${error instanceof Error ? error.message : error}`, {
      cause: error,
    });
  }
  const copy = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) await log.write(chunk);
  };
  const [status] = await Promise.all([child.status, copy(child.stdout), copy(child.stderr)]);
  if (!status.success) {
    throw new Error(
      `${cmd} ${args[0] ?? ""} failed (exit ${status.code}); see ${rel(logFile)}:\n${await tail(
        logFile,
      )}`,
    );
  }
}

/**
 * Runs `cmd args…` to completion and returns its stdout, or `undefined` when it cannot run
 * or exits non-zero.
 */
export async function outputOf(
  cmd: string,
  args: string[],
  options: { cwd?: string } = {},
): Promise<string | undefined> {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      cwd: options.cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    return out.success ? new TextDecoder().decode(out.stdout) : undefined;
  } catch {
    return undefined;
  }
}
