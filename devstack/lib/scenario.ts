/**
 * Runs orderstats as users do — `deno run main.ts` in a child process — against the
 * local stack, plus the helpers the integration tests, benchmarks and demo share (fresh
 * names, Mongo's own `$group` totals, waiting for convergence).
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { type Collection, MongoClient } from "mongodb";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ddbClientConfig, ddbEndpoint, kafkaBrokers, mongoUri, uniqueName } from "./env.ts";
import { DynamoStore } from "../../src/state/dynamodb/store.ts";

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));

/**
 * The permissions the compiled binary gets (deno.json's `compile` task, which the
 * Containerfile runs): orderstats runs here with exactly these, so a missing one fails tests.
 */
export const BINARY_PERMISSIONS: readonly string[] = compileFlags("--allow-");

/** The V8 flags the compiled binary runs with, so children use memory as it does. */
export const BINARY_V8_FLAGS: readonly string[] = compileFlags("--v8-flags=");

/** The flags of deno.json's `compile` task that start with `prefix`. */
function compileFlags(prefix: string): string[] {
  const manifest = JSON.parse(
    Deno.readTextFileSync(new URL("../../deno.json", import.meta.url)),
  ) as { tasks: Record<string, string> };
  return manifest.tasks.compile.split(/\s+/).filter((arg) => arg.startsWith(prefix));
}

/** Names one test's resources, so tests never share state. */
export interface Scenario {
  db: string;
  collection: string;
  table: string;
  topic: string;
  group: string;
  pipeline: string;
}

/** A fresh scenario with unique names. */
export function scenario(prefix: string): Scenario {
  const id = uniqueName(prefix).replaceAll("-", "_");
  return {
    db: `db_${id}`.slice(0, 60),
    collection: "orders",
    table: `t_${id}`,
    topic: `cdc.${id}`,
    group: `g_${id}`,
    pipeline: "order_totals",
  };
}

/** The flags that point orderstats at a scenario on the local stack. */
export function stackFlags(s: Scenario): string[] {
  return [
    `--mongo-uri=${mongoUri()}`,
    `--mongo-db=${s.db}`,
    `--mongo-collection=${s.collection}`,
    `--kafka-brokers=${kafkaBrokers().join(",")}`,
    `--kafka-topic=${s.topic}`,
    `--consumer-group=${s.group}`,
    `--ddb-endpoint=${ddbEndpoint()}`,
    `--ddb-table=${s.table}`,
    `--pipeline=${s.pipeline}`,
  ];
}

/** Output of a finished orderstats run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The child's environment: `undefined` inherits this process's; an object gives this
 * process's environment without any `AWS_*` variable, plus the object (so a test decides
 * the whole AWS configuration).
 */
export type ChildEnv = Record<string, string> | undefined;

function childEnv(env: ChildEnv): { env: Record<string, string>; clearEnv: boolean } {
  if (env === undefined) return { env: { NO_COLOR: "1" }, clearEnv: false };
  const own = Object.entries(Deno.env.toObject()).filter(([name]) => !name.startsWith("AWS_"));
  return { env: { ...Object.fromEntries(own), NO_COLOR: "1", ...env }, clearEnv: true };
}

function command(
  args: string[],
  stdio: "piped" | "inherit" = "piped",
  env?: ChildEnv,
  signal?: AbortSignal,
): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...BINARY_PERMISSIONS, ...BINARY_V8_FLAGS, MAIN, ...args],
    ...childEnv(env),
    stdout: "piped",
    stderr: stdio,
    stdin: "null",
    signal,
  });
}

/**
 * Runs orderstats to completion. `stop`: after that many ms send it SIGTERM, or kill it when
 * the signal aborts (e.g. `AbortSignal.timeout(ms)`).
 */
export async function orderstats(
  args: string[],
  env?: ChildEnv,
  stop?: number | AbortSignal,
): Promise<CliResult> {
  const child = command(args, "piped", env, stop instanceof AbortSignal ? stop : undefined)
    .spawn();
  const timer = typeof stop === "number"
    ? setTimeout(() => child.kill("SIGTERM"), stop)
    : undefined;
  const out = await child.output();
  clearTimeout(timer);
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** Starts orderstats as a child with piped output (to kill it mid-run, e.g. with SIGKILL). */
export function spawnOrderstats(args: string[], env?: ChildEnv): Deno.ChildProcess {
  return command(args, "piped", env).spawn();
}

/** Runs orderstats and fails with its stderr when it exits non-zero. */
export async function orderstatsOk(args: string[], env?: ChildEnv): Promise<CliResult> {
  const result = await orderstats(args, env);
  if (result.code !== 0) {
    throw new Error(`orderstats ${args.join(" ")} exited ${result.code}:\n${result.stderr}`);
  }
  return result;
}

let httpPort = 18_100 + Math.floor(Math.random() * 500);

/** A fresh HTTP port for a worker of this process (a random base keeps parallel runs apart). */
export function nextHttpPort(): number {
  return httpPort++;
}

/**
 * A running `--mode=live` worker (or `--mode=serve` server); its stderr goes to the test
 * output unless captured.
 */
export class LiveWorker {
  readonly process: Deno.ChildProcess;
  readonly port: number;
  /** With `captureStderr`: everything the worker wrote to stderr so far. */
  stderr = "";
  readonly #drained: Promise<void>;
  constructor(
    args: string[],
    port: number,
    mode: "live" | "serve" = "live",
    { captureStderr = false } = {},
  ) {
    this.port = port;
    const argv = [`--mode=${mode}`, `--http-port=${port}`, ...args];
    this.process = command(argv, captureStderr ? "piped" : "inherit").spawn();
    this.#drained = captureStderr
      ? this.process.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
        new WritableStream({ write: (chunk) => void (this.stderr += chunk) }),
      )
      : Promise.resolve();
  }

  /** The worker's Prometheus metrics as `name{labels}` → value. */
  async metrics(): Promise<Map<string, number>> {
    const text = await (await fetch(`http://127.0.0.1:${this.port}/metrics`)).text();
    return new Map(
      text.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => {
        const at = l.lastIndexOf(" ");
        return [l.slice(0, at), Number(l.slice(at + 1))];
      }),
    );
  }

  /** Sends a signal and resolves with the exit code and the seconds it took. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<{ code: number; seconds: number }> {
    const started = performance.now();
    try {
      this.process.kill(signal);
    } catch {
      // Already exited: the status below tells how.
    }
    const status = await this.process.status;
    await this.process.stdout.cancel();
    await this.#drained;
    return { code: status.code, seconds: (performance.now() - started) / 1000 };
  }
}

/**
 * MongoDB's own answer: `$group: {_id: "$customer_id", total: {$sum: "$amount"}}`, keyed
 * as orderstats keys customers (docs/data-model.md): a string as itself, a number `n:<value>`.
 */
export async function mongoTotals(collection: Collection): Promise<Map<string, bigint>> {
  const rows = await collection.aggregate([
    { $group: { _id: "$customer_id", total: { $sum: "$amount" } } },
  ], { promoteLongs: false }).toArray();
  const key = (id: unknown) =>
    typeof id === "string"
      ? (/^[ns]:/.test(id) ? `s:${id}` : id)
      : id == null
      ? String(id)
      : `n:${id}`;
  return new Map(rows.map((r) => [key(r._id), BigInt(r.total.toString())]));
}

/** orderstats' totals as stored in DynamoDB (zero totals dropped, like `$group`). */
export async function storedTotals(s: Scenario): Promise<Map<string, bigint>> {
  await using store = new DynamoStore({
    client: new DynamoDBClient(ddbClientConfig()),
    table: s.table,
  });
  const totals = new Map<string, bigint>();
  for await (const row of store.totals(s.pipeline)) totals.set(row.key, row.total);
  return totals;
}

/** Drops zero totals: a customer whose orders all went away has none in `$group`. */
export function nonZero(totals: Map<string, bigint>): Map<string, bigint> {
  return new Map([...totals].filter(([, v]) => v !== 0n).sort(([a], [b]) => a < b ? -1 : 1));
}

/** Polls until `check` returns true or `timeoutMs` passes; returns the last result. */
export async function eventually(
  check: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return check();
}

/** A connected client for the scenario's collection; disposing drops the database and closes. */
export interface ScenarioCollection extends AsyncDisposable {
  client: MongoClient;
  orders: Collection;
}

/** Connects to the scenario's collection; `await using` it to clean up. */
export async function mongoCollection(s: Scenario): Promise<ScenarioCollection> {
  const client = new MongoClient(mongoUri());
  await client.connect();
  return {
    client,
    orders: client.db(s.db).collection(s.collection),
    async [Symbol.asyncDispose]() {
      await client.db(s.db).dropDatabase();
      await client.close();
    },
  };
}
