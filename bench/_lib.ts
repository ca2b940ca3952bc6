/**
 * Shared helpers of the benchmarks: flags, timing, tables, running orderstats under
 * `/usr/bin/time -v`, and removing what a run created. Benchmarks print figures; they
 * pass or fail nothing.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import {
  BatchGetItemCommand,
  DeleteTableCommand,
  type DynamoDBClient,
  type KeysAndAttributes,
} from "@aws-sdk/client-dynamodb";
import { ddbEndpoint } from "../devstack/lib/env.ts";
import { testKafka } from "../devstack/lib/kafka.ts";
import { dynamoClient } from "../src/state/dynamodb/client.ts";
import { keys as itemKeys, readTotal } from "../src/state/dynamodb/items.ts";

const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));

/**
 * Parses `--name=value` flags against `defaults`: numeric defaults make positive-integer
 * flags. A `--` from `deno task x -- …` is ignored.
 */
export function benchArgs<T extends Record<string, number | string>>(defaults: T): T {
  const { values } = parseArgs({
    args: Deno.args.filter((a) => a !== "--"),
    options: Object.fromEntries(Object.keys(defaults).map((k) => [k, { type: "string" }])),
    strict: true,
  });
  const out: Record<string, number | string> = { ...defaults };
  for (const [name, raw] of Object.entries(values)) {
    if (typeof defaults[name] !== "number") {
      out[name] = String(raw);
      continue;
    }
    const n = Number(String(raw).replace(/_/g, ""));
    if (!Number.isSafeInteger(n) || n <= 0) {
      throw new RangeError(`--${name} must be a positive integer: got "${raw}"`);
    }
    out[name] = n;
  }
  return out as T;
}

/** The project's DynamoDB client for DynamoDB Local (same settings orderstats uses). */
export function benchDynamo(): DynamoDBClient {
  return dynamoClient({ endpoint: ddbEndpoint(), region: "us-east-1" });
}

/** A measured step: its result, wall seconds, and how busy the whole machine was meanwhile. */
export interface Timed<T> {
  value: T;
  seconds: number;
  /** Share of all CPUs' time not idle during the step, in % (other processes included). */
  busy: number;
}

/** Runs `fn` and measures it (see {@link Timed}). */
export async function timed<T>(fn: () => Promise<T>): Promise<Timed<T>> {
  const [cpu, started] = [cpuSnapshot(), performance.now()];
  const value = await fn();
  return { value, seconds: (performance.now() - started) / 1000, busy: busySince(cpu) };
}

/** Busy and total CPU ticks of the whole machine (first line of /proc/stat). */
export interface CpuSnapshot {
  busy: number;
  total: number;
}

/** Reads {@link CpuSnapshot} now. */
export function cpuSnapshot(): CpuSnapshot {
  const line = Deno.readTextFileSync("/proc/stat").split("\n")[0];
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  return { busy: total - ticks[3] - ticks[4], total };
}

/** % of all CPUs' time that was not idle since `before`. */
export function busySince(before: CpuSnapshot): number {
  const now = cpuSnapshot();
  return 100 * (now.busy - before.busy) / Math.max(1, now.total - before.total);
}

/** One line describing the machine and its load when a benchmark starts. */
export function machineLine(): string {
  const [one, five] = Deno.loadavg();
  const gib = Deno.systemMemoryInfo().total / 2 ** 30;
  return `machine: ${navigator.hardwareConcurrency} cores, ${gib.toFixed(0)} GiB; ` +
    `load average ${one.toFixed(2)} (1 min), ${five.toFixed(2)} (5 min)`;
}

/** Items per second, rounded. */
export const perSecond = (n: number, seconds: number) => Math.round(n / seconds);

/** Prints rows as an aligned text table (first row = header). */
export function printTable(rows: (string | number)[][]): void {
  const text = rows.map((r) => r.map(String));
  const widths = text[0].map((_, c) => Math.max(...text.map((r) => r[c]?.length ?? 0)));
  const line = (r: string[]) => r.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd();
  console.log([line(text[0]), line(widths.map((w) => "-".repeat(w))), ...text.slice(1).map(line)]
    .join("\n"));
}

/** A finished orderstats child process. */
export interface ChildRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Peak resident set size in MB (GNU time's "Maximum resident set size"). */
  peakRssMb: number;
}

/**
 * Runs `deno run -A --v8-flags=<v8Flags> main.ts <args>` under `/usr/bin/time -v`; `seconds`
 * is the wall time from spawn to exit (Deno start-up included). `v8Flags` is a comma list
 * (empty: none).
 */
export async function orderstatsTimed(args: string[], v8Flags: string): Promise<Timed<ChildRun>> {
  const time = "/usr/bin/time";
  if (!(await Deno.stat(time).then(() => true, () => false))) {
    throw new Error(`${time} is missing: install GNU time (apt-get install time)`);
  }
  const deno = [Deno.execPath(), "run", "-A", ...(v8Flags ? [`--v8-flags=${v8Flags}`] : [])];
  return await timed(async () => {
    const out = await new Deno.Command(time, {
      args: ["-v", ...deno, MAIN, ...args],
      env: { NO_COLOR: "1" },
      stdin: "null",
    }).output();
    const text = new TextDecoder();
    const stderr = text.decode(out.stderr);
    const kb = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
    if (!kb) throw new Error(`no peak RSS in /usr/bin/time output:\n${stderr.slice(-2000)}`);
    const stdout = text.decode(out.stdout);
    return { code: out.code, stdout, stderr, peakRssMb: Number(kb[1]) / 1024 };
  });
}

/** A free TCP port on 127.0.0.1 (for a worker's /metrics). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Deletes DynamoDB tables, ignoring ones that do not exist. */
export async function dropTables(tables: string[]): Promise<void> {
  const client = benchDynamo();
  try {
    for (const TableName of tables) {
      await client.send(new DeleteTableCommand({ TableName })).catch(() => {});
    }
  } finally {
    client.destroy();
  }
}

/** Deletes Kafka topics and consumer groups, ignoring ones that do not exist. */
export async function dropKafka(topics: string[], groups: string[]): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    await admin.deleteGroups(groups).catch(() => {});
    await admin.deleteTopics({ topics }).catch(() => {});
  } finally {
    await admin.disconnect();
  }
}

/** `a` and `b` as maps of non-zero totals compare equal. */
export function sameTotals(a: Map<string, bigint>, b: Map<string, bigint>): boolean {
  const nz = (m: Map<string, bigint>) => [...m].filter(([, v]) => v !== 0n);
  const left = nz(a);
  return left.length === nz(b).length && left.every(([k, v]) => b.get(k) === v);
}

/** A value at quantile `q` (0..1) of unsorted numbers. */
export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/**
 * The stored totals of `customers`, read with BatchGetItem (100 keys a request, 8 in flight).
 * Unlike a Scan, this stays cheap on DynamoDB Local when the table holds a million items
 * (a filtered Scan there ran out of its 1 GB heap).
 */
export async function totalsOf(
  table: string,
  pipeline: string,
  customers: string[],
): Promise<Map<string, bigint>> {
  const client = benchDynamo();
  const found = new Map<string, bigint>();
  let next = 0;
  const worker = async () => {
    while (next < customers.length) {
      const slice = customers.slice(next, next += 100);
      let ask: Record<string, KeysAndAttributes> | undefined = {
        [table]: { Keys: slice.map((c) => ({ pk: { S: itemKeys.total(pipeline, c) } })) },
      };
      while (ask !== undefined && Object.keys(ask).length > 0) {
        const request: Record<string, KeysAndAttributes> = ask;
        const out = await client.send(new BatchGetItemCommand({ RequestItems: request }));
        for (const item of out.Responses?.[table] ?? []) {
          const row = readTotal(item);
          found.set(row.key, row.total);
        }
        ask = out.UnprocessedKeys;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: 8 }, worker));
    return found;
  } finally {
    client.destroy();
  }
}
