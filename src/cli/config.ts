/**
 * Turns argv and the environment into a validated {@link Config}. Flags win over
 * environment variables, which win over defaults.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { ConfigError } from "../util/errors.ts";
import { type Mode, MODES, OPTIONS, type OptionSpec } from "./options.ts";
import type { CdcFormat } from "../sources/cdc/mod.ts";
import { defaultLedgerTable } from "../state/dynamodb/tables.ts";
import type { KafkaConnection } from "../sources/kafka/client.ts";
import type { Compression } from "../sources/kafka/codecs.ts";
import { kafkaConnection } from "./kafka_config.ts";
import { endpointFromEnv } from "../state/dynamodb/client.ts";
import { mongoUriProblem } from "../sources/mongo/client.ts";
import { heapLimitBytes } from "../util/heap.ts";
import {
  LEDGER_CACHE_ENTRY_BYTES,
  LEDGER_CACHE_HEAP_SHARE,
} from "../runtimes/live/ledger_cache.ts";

type RawValue = string | boolean | undefined;

/** Everything one run needs, already validated. */
export interface Config {
  mode: Mode;
  pipeline: string;
  mongo: { uri: string; db: string; collection: string; batchSize: number };
  kafka: {
    /** Brokers, TLS and SASL. */
    connection: KafkaConnection;
    topic: string;
    consumerGroup: string;
    partitions: number;
    format: CdcFormat;
    dlqTopic?: string;
    dlqCompression: Compression;
  };
  live: {
    waitForHandoff: boolean;
    handoffTimeoutSeconds: number;
    httpPort: number;
    sessionTimeoutMs: number;
    partitionsConcurrency: number;
    serveApi: boolean;
    replayBeforeHandoff: boolean;
    maxRecordBytes: number;
    ledgerCacheEntries: number;
  };
  ddb: {
    endpoint?: string;
    table: string;
    ledgerTable: string;
    /** Unset: left to the AWS SDK's default chain. */
    region?: string;
    dedupTable?: string;
  };
  bootstrap: {
    force: boolean;
    allowNoChangeStreams: boolean;
    badRecordsFile: string;
    leaseSeconds: number;
    /** A segmented bootstrap: N segments, and those this process scans. */
    segments?: { count: number; run: number[] };
  };
  audit: { readsPerSecond: number; settleSeconds: number; metricsFile?: string };
  writeConcurrency: number;
  createTopic: boolean;
  customer?: string;
  logLevel: "debug" | "info" | "warn" | "error";
}

/** Result of parsing: a config to run, or a request for help or the version. */
export type ParseResult = { help: true } | { version: true } | { config: Config };

/**
 * Parses command-line arguments and environment variables.
 *
 * @throws {ConfigError} naming the flag (and its environment variable) that is wrong.
 */
export function parseConfig(
  argv: string[],
  env: Record<string, string | undefined>,
): ParseResult {
  const flags = readFlags(argv);
  if (flags.help === true) return { help: true };
  if (flags.version === true) return { version: true };
  refuseSecretFlags(flags);
  const values = new Map<string, string | boolean | number | string[] | undefined>();
  for (const spec of OPTIONS) values.set(spec.name, resolve(spec, flags[spec.name], env));
  const get = <T>(name: string) => values.get(name) as T;
  return { config: toConfig(validMode(get, env), validTables(get), get, env) };
}

/** Reads one resolved option's value. */
type Get = <T>(name: string) => T;

/** Secrets come from the environment (or a file), never from a flag. */
function refuseSecretFlags(flags: Record<string, RawValue>): void {
  for (const spec of OPTIONS) {
    if (spec.envOnly && flags[spec.name] !== undefined) {
      throw new ConfigError(
        `--${spec.name} is not a flag, so the secret stays out of process lists and shell ` +
          `history: set ${spec.env}${
            OPTIONS.some((o) => o.name === `${spec.name}-file`) ? ` or --${spec.name}-file` : ""
          }`,
      );
    }
  }
}

/** The mode, after checking the connection options no single option spec can check. */
function validMode(get: Get, env: Record<string, string | undefined>): Mode {
  const mode = get<Mode | undefined>("mode");
  if (mode === undefined) {
    throw new ConfigError(`${named("mode")} is required (${MODES.join(", ")}); see --help`);
  }
  const endpoint = get<string | undefined>("ddb-endpoint");
  if (endpoint !== undefined) checkEndpoint(named("ddb-endpoint"), endpoint);
  const sdkEndpoint = endpointFromEnv(env);
  if (sdkEndpoint !== undefined) checkEndpoint(sdkEndpoint.variable, sdkEndpoint.url);
  const mongoUri = get<string>("mongo-uri");
  if (!/^mongodb(\+srv)?:\/\//.test(mongoUri)) {
    throw new ConfigError(`${named("mongo-uri")} must start with mongodb:// or mongodb+srv://`);
  }
  const problem = mongoUriProblem(mongoUri);
  if (problem !== undefined) {
    throw new ConfigError(`${named("mongo-uri")} is not a valid connection string: ${problem}`);
  }
  if (KAFKA_MODES.includes(mode)) {
    for (const broker of get<string[]>("kafka-brokers")) checkBroker(broker);
  }
  return mode;
}

/** The modes that connect to Kafka. */
const KAFKA_MODES = OPTIONS.find((o) => o.name === "kafka-security-protocol")!.modes;

/** The totals and ledger tables, checked: valid names, and two different tables. */
function validTables(get: Get): { table: string; ledgerTable: string } {
  const table = get<string>("ddb-table");
  const ledgerTable = get<string | undefined>("ddb-ledger-table") ?? defaultLedgerTable(table);
  for (
    const [flag, name] of [
      ["ddb-table", table],
      ["ddb-ledger-table", ledgerTable],
      ["ddb-dedup-table", get("ddb-dedup-table")],
    ]
  ) {
    if (name !== undefined && !/^[A-Za-z0-9_.-]{3,255}$/.test(name as string)) {
      throw new ConfigError(
        `${named(flag as string)} must be 3-255 characters of letters, digits, '_', '-' or '.': ` +
          `got "${name}"`,
      );
    }
  }
  if (ledgerTable === table) {
    throw new ConfigError(
      `--ddb-ledger-table (DDB_LEDGER_TABLE) must differ from --ddb-table (DDB_TABLE): ` +
        `both are "${table}", and totals need a table of their own`,
    );
  }
  return { table, ledgerTable };
}

/** The live worker's own options. */
function liveConfig(get: Get, mode: Mode): Config["live"] {
  const ledgerCacheEntries = get<number>("ledger-cache-entries");
  return {
    waitForHandoff: get("wait-for-handoff"),
    handoffTimeoutSeconds: get("handoff-timeout"),
    httpPort: get("http-port"),
    sessionTimeoutMs: get("kafka-session-timeout-ms"),
    partitionsConcurrency: get("kafka-partitions-concurrency"),
    serveApi: get("serve-api"),
    replayBeforeHandoff: get("replay-before-handoff"),
    maxRecordBytes: get("max-record-bytes"),
    // Only a live worker holds the cache: other modes never refuse it.
    ledgerCacheEntries: mode === "live"
      ? fittingLedgerCache(ledgerCacheEntries)
      : ledgerCacheEntries,
  };
}

/**
 * The ledger cache's size, if it fits its share of the heap: a cache that outgrows the
 * heap would crash the worker out of memory hours in, so it is refused at the start.
 */
function fittingLedgerCache(entries: number): number {
  const limit = heapLimitBytes();
  const most = Math.floor((limit * LEDGER_CACHE_HEAP_SHARE) / LEDGER_CACHE_ENTRY_BYTES);
  if (entries <= most) return entries;
  const mb = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MB`;
  const share = `${Math.round(LEDGER_CACHE_HEAP_SHARE * 100)} %`;
  throw new ConfigError(
    `${named("ledger-cache-entries")} is ${entries}: about ` +
      `${mb(entries * LEDGER_CACHE_ENTRY_BYTES)}, more than ${share} of this process's V8 ` +
      `heap limit (${mb(limit)}), so at most ${most}. Lower it, or raise the limit ` +
      `(--v8-flags=--max-old-space-size=<MB> for deno run; the compile task's --v8-flags ` +
      `for the binary)`,
  );
}

/**
 * The options as the modes read them. The region falls back to AWS_DEFAULT_REGION, which
 * the JavaScript SDK alone ignores (other SDKs and the AWS CLI read it).
 */
function toConfig(
  mode: Mode,
  { table, ledgerTable }: { table: string; ledgerTable: string },
  get: Get,
  env: Record<string, string | undefined>,
): Config {
  return {
    mode,
    pipeline: get("pipeline"),
    mongo: {
      uri: get("mongo-uri"),
      db: get("mongo-db"),
      collection: get("mongo-collection"),
      batchSize: get("batch-size"),
    },
    kafka: {
      // Bootstrap (except of a raw topic, whose end offsets it records) and totals never
      // connect: their TLS files and secrets need not exist.
      connection:
        KAFKA_MODES.includes(mode) || (mode === "bootstrap" && get("cdc-format") === "raw")
          ? kafkaConnection(get, env)
          : { brokers: get("kafka-brokers") },
      topic: get("kafka-topic"),
      consumerGroup: get("consumer-group"),
      partitions: get("topic-partitions"),
      format: get("cdc-format"),
      dlqTopic: get("dlq-topic"),
      dlqCompression: get("dlq-compression"),
    },
    live: liveConfig(get, mode),
    ddb: {
      endpoint: get("ddb-endpoint"),
      table,
      ledgerTable,
      region: get<string | undefined>("ddb-region") ?? (env.AWS_DEFAULT_REGION || undefined),
      dedupTable: get("ddb-dedup-table"),
    },
    bootstrap: bootstrapConfig(get),
    audit: {
      readsPerSecond: get("audit-rate"),
      settleSeconds: get("audit-settle-seconds"),
      metricsFile: get("audit-metrics-file"),
    },
    writeConcurrency: get("write-concurrency"),
    createTopic: get("create-topic"),
    customer: get("customer"),
    logLevel: get("log-level"),
  };
}

function bootstrapConfig(get: Get): Config["bootstrap"] {
  return {
    force: get("force"),
    allowNoChangeStreams: get("allow-no-change-streams"),
    badRecordsFile: get("bad-records-file"),
    leaseSeconds: get("bootstrap-lease-seconds"),
    segments: segmentsOf(get),
  };
}

/** `--parallel N` (all N segments here) or `--segment i/N` (segment i of N); none: unsplit. */
function segmentsOf(get: Get): { count: number; run: number[] } | undefined {
  const parallel = get<number>("parallel");
  const segment = get<string | undefined>("segment");
  if (segment === undefined) {
    return parallel === 1 ? undefined : {
      count: parallel,
      run: Array.from({ length: parallel }, (_, i) => i),
    };
  }
  if (parallel !== 1) {
    throw new ConfigError(
      `${named("segment")} scans one segment per process: drop ${named("parallel")} ` +
        `(got ${parallel}), or use --parallel alone to scan every segment in one process`,
    );
  }
  const match = /^(\d+)\/(\d+)$/.exec(segment.trim());
  const [index, count] = match === null ? [NaN, NaN] : [Number(match[1]), Number(match[2])];
  if (!(count >= 1 && index < count)) {
    throw new ConfigError(
      `${named("segment")} must be i/N with 0 ≤ i < N (segments are numbered from 0, ` +
        `e.g. 0/3, 1/3, 2/3): got "${segment}"`,
    );
  }
  return { count, run: [index] };
}

/** `--flag (VARIABLE)`, or `--flag` for a flag without a variable: errors name both. */
export function named(name: string): string {
  const env = OPTIONS.find((o) => o.name === name)?.env;
  return env === undefined ? `--${name}` : `--${name} (${env})`;
}

/** A broker is `host:port` with a port in 1-65535. */
function checkBroker(broker: string): void {
  const port = Number(/:(\d+)$/.exec(broker)?.[1]);
  const host = broker.slice(0, broker.lastIndexOf(":"));
  if (host === "" || !(port >= 1 && port <= 65535)) {
    throw new ConfigError(
      `${named("kafka-brokers")} must list host:port pairs with ports 1-65535: got "${broker}"`,
    );
  }
}

/** An endpoint is an http(s) URL with a host: `localhost:8000` would parse as a scheme. */
function checkEndpoint(where: string, url: string): void {
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  if (!parsed || !["http:", "https:"].includes(parsed.protocol) || parsed.hostname === "") {
    throw new ConfigError(
      `${where} must be an http:// or https:// URL such as http://localhost:8000: got "${url}"`,
    );
  }
}

function readFlags(argv: string[]): Record<string, RawValue> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: Object.fromEntries(
        OPTIONS.map((o) => [o.name, {
          type: o.kind === "boolean" ? "boolean" : "string",
          ...(o.short === undefined ? {} : { short: o.short }),
        }]),
      ) as Record<string, { type: "boolean" | "string"; short?: string }>,
      strict: true,
      allowPositionals: true,
      allowNegative: true,
    });
    if (positionals.length > 0) {
      throw new ConfigError(`unexpected argument "${positionals[0]}"; flags look like --mode=live`);
    }
    return values as Record<string, RawValue>;
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    // node:util's message names the flag, e.g. "Unknown option '--mod'": add the nearest one.
    const message = (error as Error).message.split(". ")[0];
    const unknown = /Unknown option '--([^'=]+)/.exec(message)?.[1];
    const nearest = unknown === undefined ? undefined : nearestOption(unknown);
    const hint = nearest === undefined ? "" : `; did you mean --${nearest}?`;
    throw new ConfigError(`${message}${hint} (see --help)`, { cause: error });
  }
}

/** The option whose name is closest to `name` (edit distance at most 3), if any. */
function nearestOption(name: string): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const option of OPTIONS) {
    const distance = editDistance(name, option.name);
    if (distance <= 3 && (best === undefined || distance < best.distance)) {
      best = { name: option.name, distance };
    }
  }
  return best?.name;
}

/** Levenshtein distance. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length];
}

function resolve(spec: OptionSpec, flag: RawValue, env: Record<string, string | undefined>) {
  const fromEnv = spec.env !== undefined && env[spec.env] !== "" ? env[spec.env] : undefined;
  const raw = flag ?? fromEnv ?? spec.default;
  if (raw === undefined) return undefined;
  if (typeof raw === "boolean") return raw;
  const where = named(spec.name);
  // Which of the two the bad value came from.
  const from = flag === undefined && fromEnv !== undefined ? ` (set in ${spec.env})` : "";
  switch (spec.kind) {
    case "boolean": {
      if (raw === "true" || raw === "1") return true;
      if (raw === "false" || raw === "0") return false;
      throw new ConfigError(`${where} must be true or false: got "${raw}"${from}`);
    }
    case "integer": {
      const n = Number(raw);
      const [min, max] = [spec.min ?? 1, spec.max ?? Number.MAX_SAFE_INTEGER];
      if (!Number.isSafeInteger(n) || n < min || n > max) {
        const range = spec.max !== undefined
          ? `an integer ${min}-${max}`
          : min === 1
          ? "a positive integer"
          : `an integer ≥ ${min}`;
        throw new ConfigError(`${where} must be ${range}: got "${raw}"${from}`);
      }
      return n;
    }
    case "list": {
      const items = raw.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
      if (items.length === 0) throw new ConfigError(`${where} must not be empty${from}`);
      return items;
    }
    case "string": {
      if (spec.choices && !spec.choices.includes(raw)) {
        const choices = spec.choices.join(", ");
        throw new ConfigError(`${where} must be one of ${choices}: got "${raw}"${from}`);
      }
      return raw;
    }
  }
}
