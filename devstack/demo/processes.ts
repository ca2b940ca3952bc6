/**
 * The child processes of a demo run, all started with this Deno: the stack CLI and
 * orderstats runs shown on the console, and background processes (the Debezium relay, live
 * mode) writing to a log file.
 *
 * @module
 */
import { dirname } from "node:path";
import { rel, ROOT } from "../lib/paths.ts";
import { formatLogLine, INDENT } from "./report.ts";

/** How a foreground run ended. */
export interface RunResult {
  code: number;
  stdout: string;
}

/** `deno run -A <script> …args` from the repository root. */
function denoRun(script: string, args: string[], piped: boolean): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: piped ? "piped" : "inherit",
    stderr: piped ? "piped" : "inherit",
  }).spawn();
}

/** Runs a script with its output straight on the console (e.g. `devstack/stack.ts up`). */
export async function runVisible(script: string, args: string[]): Promise<number> {
  return (await denoRun(script, args, false).status).code;
}

/**
 * Runs `main.ts` with `args`, showing each stderr line (JSON logs, made readable) under
 * `label`; stdout is collected.
 */
export async function runOrderstats(label: string, args: string[]): Promise<RunResult> {
  const child = denoRun("main.ts", args, true);
  const [stdout] = await Promise.all([
    new Response(child.stdout).text(),
    forEachLine(child.stderr, (line) => console.log(`${INDENT}${formatLogLine(label, line)}`)),
  ]);
  return { code: (await child.status).code, stdout };
}

async function forEachLine(
  stream: ReadableStream<Uint8Array>,
  fn: (line: string) => void,
): Promise<void> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop()!;
    for (const line of lines) if (line.trim() !== "") fn(line);
  }
  if (rest.trim() !== "") fn(rest);
}

/** A process running in the background, stdout and stderr appended to `logFile`. */
export class Background {
  readonly #child: Deno.ChildProcess;
  readonly #copied: Promise<void>;
  readonly name: string;
  readonly logFile: string;
  /** Resolves when the process exits (on its own or after {@link stop}). */
  readonly exited: Promise<Deno.CommandStatus>;

  private constructor(name: string, logFile: string, child: Deno.ChildProcess, log: Deno.FsFile) {
    this.name = name;
    this.logFile = logFile;
    this.#child = child;
    this.#copied = Promise.all([copy(child.stdout, log), copy(child.stderr, log)])
      .then(() => log.close());
    this.exited = child.status;
  }

  /** Starts `deno run -A <script> …args`; the previous log is kept as `<log>.1`. */
  static async start(
    name: string,
    script: string,
    args: string[],
    logFile: string,
  ): Promise<Background> {
    await Deno.mkdir(dirname(logFile), { recursive: true });
    await Deno.rename(logFile, `${logFile}.1`).catch(() => {});
    const command = ["deno run -A", script, ...args].join(" ");
    await Deno.writeTextFile(logFile, `=== ${new Date().toISOString()} ${command}\n`);
    // O_APPEND: stdout and stderr chunks land whole, one after the other.
    const log = await Deno.open(logFile, { append: true });
    return new Background(name, logFile, denoRun(script, args, true), log);
  }

  /** Process id, for messages. */
  get pid(): number {
    return this.#child.pid;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code once the log is flushed. */
  async stop(graceMs = 15_000): Promise<{ code: number; signal: Deno.Signal | null }> {
    const kill = (signal: Deno.Signal) => {
      try {
        this.#child.kill(signal);
      } catch {
        // Already exited.
      }
    };
    kill("SIGTERM");
    const timer = setTimeout(() => kill("SIGKILL"), graceMs);
    const status = await this.exited;
    clearTimeout(timer);
    await this.#copied;
    return { code: status.code, signal: status.signal };
  }

  /**
   * Polls `check` every 250 ms until it returns true; fails with the end of the log when the
   * process exits first or `timeoutMs` passes.
   */
  async waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
    let exited = false;
    this.exited.then(() => exited = true);
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (exited || Date.now() > deadline) {
        throw new Error(
          `${exited ? `${this.name} exited` : `timed out after ${timeoutMs / 1000} s`} ` +
            `waiting for ${what}; ${rel(this.logFile)} ends:\n${await this.tail()}`,
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** The last `lines` lines of the log, indented, for error messages. */
  async tail(lines = 15): Promise<string> {
    const text = await Deno.readTextFile(this.logFile).catch(() => "");
    return text.trimEnd().split("\n").slice(-lines).map((l) => `${INDENT}| ${l}`).join("\n");
  }
}

async function copy(stream: ReadableStream<Uint8Array>, file: Deno.FsFile): Promise<void> {
  for await (const chunk of stream) {
    for (let at = 0; at < chunk.length;) at += await file.write(chunk.subarray(at));
  }
}

/** A TCP port nothing listens on now (for live mode's HTTP endpoints). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}
