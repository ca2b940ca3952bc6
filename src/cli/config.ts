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
    serveApi: boolean;
    replayBeforeHandoff: boolean;
  };
  ddb: {
    endpoint?: string;
    table: string;
    ledgerTable: string;
    region: string;
    dedupTable?: string;
  };
  bootstrap: { force: boolean; allowNoChangeStreams: boolean; badRecordsFile: string };
  audit: { readsPerSecond: number; settleSeconds: number; metricsFile?: string };
  writeConcurrency: number;
  createTopic: boolean;
  customer?: string;
  logLevel: "debug" | "info" | "warn" | "error";
}

/** Result of parsing: a config to run, or a request for help. */
export type ParseResult = { help: true } | { help: false; config: Config };

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
  refuseSecretFlags(flags);
  const values = new Map<string, string | boolean | number | string[] | undefined>();
  for (const spec of OPTIONS) values.set(spec.name, resolve(spec, flags[spec.name], env));
  const get = <T>(name: string) => values.get(name) as T;
  return { help: false, config: toConfig(validMode(get), validTables(get), get, env) };
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
function validMode(get: Get): Mode {
  const mode = get<Mode | undefined>("mode");
  if (mode === undefined) {
    throw new ConfigError(`--mode is required (${MODES.join(", ")}); see --help`);
  }
  const endpoint = get<string | undefined>("ddb-endpoint");
  if (endpoint !== undefined && !URL.canParse(endpoint)) {
    throw new ConfigError(`--ddb-endpoint must be a URL such as http://localhost:8000`);
  }
  if (!/^mongodb(\+srv)?:\/\//.test(get<string>("mongo-uri"))) {
    throw new ConfigError("--mongo-uri must start with mongodb:// or mongodb+srv://");
  }
  return mode;
}

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
        `--${flag} must be 3-255 characters of letters, digits, '_', '-' or '.': got "${name}"`,
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

/** The options as the modes read them. */
function toConfig(
  mode: Mode,
  { table, ledgerTable }: { table: string; ledgerTable: string },
  get: Get,
  env: Record<string, string | undefined>,
): Config {
  const kafkaModes = OPTIONS.find((o) => o.name === "kafka-security-protocol")!.modes;
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
      connection: kafkaModes.includes(mode) || (mode === "bootstrap" && get("cdc-format") === "raw")
        ? kafkaConnection(get, env)
        : { brokers: get("kafka-brokers") },
      topic: get("kafka-topic"),
      consumerGroup: get("consumer-group"),
      partitions: get("topic-partitions"),
      format: get("cdc-format"),
      dlqTopic: get("dlq-topic"),
      dlqCompression: get("dlq-compression"),
    },
    live: {
      waitForHandoff: get("wait-for-handoff"),
      handoffTimeoutSeconds: get("handoff-timeout"),
      httpPort: get("http-port"),
      sessionTimeoutMs: get("kafka-session-timeout-ms"),
      serveApi: get("serve-api"),
      replayBeforeHandoff: get("replay-before-handoff"),
    },
    ddb: {
      endpoint: get("ddb-endpoint"),
      table,
      ledgerTable,
      region: get("ddb-region"),
      dedupTable: get("ddb-dedup-table"),
    },
    bootstrap: {
      force: get("force"),
      allowNoChangeStreams: get("allow-no-change-streams"),
      badRecordsFile: get("bad-records-file"),
    },
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

function readFlags(argv: string[]): Record<string, RawValue> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: Object.fromEntries(
        OPTIONS.map((o) => [o.name, { type: o.kind === "boolean" ? "boolean" : "string" }]),
      ) as Record<string, { type: "boolean" | "string" }>,
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
    // node:util's message already names the flag, e.g. "Unknown option '--mod'".
    throw new ConfigError(`${(error as Error).message}; see --help`, { cause: error });
  }
}

function resolve(spec: OptionSpec, flag: RawValue, env: Record<string, string | undefined>) {
  const source = flag !== undefined ? `--${spec.name}` : `${spec.env}`;
  const fromEnv = spec.env !== undefined && env[spec.env] !== "" ? env[spec.env] : undefined;
  const raw = flag ?? fromEnv ?? spec.default;
  if (raw === undefined) return undefined;
  if (typeof raw === "boolean") return raw;
  const where = spec.env ? `${source} (${flag !== undefined ? "flag" : "environment"})` : source;
  switch (spec.kind) {
    case "boolean": {
      if (raw === "true" || raw === "1") return true;
      if (raw === "false" || raw === "0") return false;
      throw new ConfigError(`${where} must be true or false: got "${raw}"`);
    }
    case "integer": {
      const n = Number(raw);
      if (!Number.isSafeInteger(n) || n <= 0) {
        throw new ConfigError(`${where} must be a positive integer: got "${raw}"`);
      }
      return n;
    }
    case "list": {
      const items = raw.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
      if (items.length === 0) throw new ConfigError(`${where} must not be empty`);
      return items;
    }
    case "string": {
      if (spec.choices && !spec.choices.includes(raw)) {
        throw new ConfigError(
          `--${spec.name} must be one of ${spec.choices.join(", ")}: got "${raw}"`,
        );
      }
      return raw;
    }
  }
}
