/**
 * The one table of command-line options. Parsing, environment fallback, defaults and
 * `--help` are all driven from it, so a new option is one entry here.
 *
 * @module
 */

/** How an option's text is read. */
export type OptionKind = "string" | "integer" | "boolean" | "list";

/** One option: `--name`, its environment variable and its default. */
export interface OptionSpec {
  name: string;
  env?: string;
  kind: OptionKind;
  default?: string;
  /** Allowed values, for enumerations. */
  choices?: readonly string[];
  /** Largest allowed value, for integers (ports). */
  max?: number;
  /** Smallest allowed value, for integers. @default 1 */
  min?: number;
  /** A one-letter alias, e.g. `h` for `-h`. */
  short?: string;
  /** Which modes use it (for help grouping); empty = all. */
  modes: readonly Mode[];
  /** A secret: read only from `env`, so it never shows in a process list or shell history. */
  envOnly?: boolean;
  help: string;
}

/** What the binary does in one run. */
export type Mode = "bootstrap" | "live" | "setup" | "totals" | "serve" | "audit";
export const MODES: readonly Mode[] = ["bootstrap", "live", "setup", "totals", "serve", "audit"];

/** All options, in help order. */
export const OPTIONS: readonly OptionSpec[] = [
  {
    name: "mode",
    env: "ORDERSTATS_MODE",
    kind: "string",
    choices: MODES,
    modes: [],
    help: "What to do: bootstrap, live, setup (create tables/topic), totals (print totals), " +
      "serve (the read API over HTTP) or audit (compare every total with MongoDB's $group).",
  },
  {
    name: "pipeline",
    env: "PIPELINE_NAME",
    kind: "string",
    default: "order_totals",
    modes: [],
    help: "Pipeline name; namespaces every DynamoDB item, so several pipelines can share a table.",
  },
  {
    name: "mongo-uri",
    env: "MONGO_URI",
    kind: "string",
    default: "mongodb://localhost:27017/?replicaSet=rs0&directConnection=true",
    modes: ["bootstrap", "audit"],
    help: "MongoDB connection string (a replica set: change streams need one). Options " +
      "written in it (timeouts, TLS, …) win over orderstats' defaults; its password and " +
      "secret parameters are never logged.",
  },
  {
    name: "mongo-db",
    env: "MONGO_DB",
    kind: "string",
    default: "shop",
    modes: ["bootstrap", "audit"],
    help: "Database holding the orders collection.",
  },
  {
    name: "mongo-collection",
    env: "MONGO_COLLECTION",
    kind: "string",
    default: "orders",
    modes: ["bootstrap", "audit"],
    help: "Orders collection: documents {_id, customer_id, amount}.",
  },
  {
    name: "kafka-brokers",
    env: "KAFKA_BROKERS",
    kind: "list",
    default: "localhost:9092",
    modes: ["bootstrap", "live", "setup"],
    help: "Kafka bootstrap brokers, comma-separated host:port.",
  },
  {
    name: "kafka-topic",
    env: "KAFKA_TOPIC",
    kind: "string",
    default: "orders.cdc",
    modes: ["bootstrap", "live", "setup"],
    help: "CDC topic (Debezium MongoDB events, flattened events or raw order JSON).",
  },
  {
    name: "kafka-security-protocol",
    env: "KAFKA_SECURITY_PROTOCOL",
    kind: "string",
    default: "PLAINTEXT",
    choices: ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"],
    modes: ["live", "setup"],
    help: "How to reach the brokers: PLAINTEXT, SSL (TLS), SASL_PLAINTEXT or SASL_SSL " +
      "(SASL over TLS; what MSK, Confluent Cloud and most secured clusters use).",
  },
  {
    name: "kafka-sasl-mechanism",
    env: "KAFKA_SASL_MECHANISM",
    kind: "string",
    choices: ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "AWS_MSK_IAM"],
    modes: ["live", "setup"],
    help: "SASL mechanism (SASL_* protocols only). AWS_MSK_IAM signs OAUTHBEARER tokens " +
      "with credentials from the AWS SDK's default chain.",
  },
  {
    name: "kafka-sasl-username",
    env: "KAFKA_SASL_USERNAME",
    kind: "string",
    modes: ["live", "setup"],
    help: "SASL user name (PLAIN and SCRAM).",
  },
  {
    name: "kafka-sasl-password",
    env: "KAFKA_SASL_PASSWORD",
    kind: "string",
    envOnly: true,
    modes: ["live", "setup"],
    help: "SASL password (PLAIN and SCRAM). Environment only, never logged; or use " +
      "--kafka-sasl-password-file.",
  },
  {
    name: "kafka-sasl-password-file",
    env: "KAFKA_SASL_PASSWORD_FILE",
    kind: "string",
    modes: ["live", "setup"],
    help: "File holding the SASL password (one trailing newline is dropped), e.g. a " +
      "mounted secret.",
  },
  {
    name: "kafka-ssl-ca-location",
    env: "KAFKA_SSL_CA_LOCATION",
    kind: "string",
    modes: ["live", "setup"],
    help: "PEM file of the CA certificates that sign the brokers' certificates. Unset: the " +
      "runtime's root store (public CAs; DENO_TLS_CA_STORE=system adds the system's).",
  },
  {
    name: "kafka-ssl-certificate-location",
    env: "KAFKA_SSL_CERTIFICATE_LOCATION",
    kind: "string",
    modes: ["live", "setup"],
    help: "PEM client certificate, for brokers that require TLS client authentication.",
  },
  {
    name: "kafka-ssl-key-location",
    env: "KAFKA_SSL_KEY_LOCATION",
    kind: "string",
    modes: ["live", "setup"],
    help: "PEM private key (unencrypted) of --kafka-ssl-certificate-location.",
  },
  {
    name: "consumer-group",
    env: "CONSUMER_GROUP",
    kind: "string",
    default: "order_totals_worker",
    modes: ["live"],
    help: "Kafka consumer group; workers in one group split the topic's partitions.",
  },
  {
    name: "ddb-endpoint",
    env: "DDB_ENDPOINT",
    kind: "string",
    modes: [],
    help: "DynamoDB endpoint URL (e.g. http://localhost:8000 for DynamoDB Local). Unset: the " +
      "AWS SDK's (AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL, the profile's endpoint_url, " +
      "else AWS).",
  },
  {
    name: "ddb-table",
    env: "DDB_TABLE",
    kind: "string",
    default: "order_totals",
    modes: [],
    help: "DynamoDB table for the totals (only totals: listing them never reads the ledger).",
  },
  {
    name: "ddb-ledger-table",
    env: "DDB_LEDGER_TABLE",
    kind: "string",
    modes: ["bootstrap", "live", "setup"],
    help: "DynamoDB table for the per-order ledger and the handoff row. " +
      "Unset: the --ddb-table name with _ledger appended. Must differ from --ddb-table.",
  },
  {
    name: "ddb-region",
    env: "AWS_REGION",
    kind: "string",
    modes: [],
    help: "AWS region of the DynamoDB table. Unset: AWS_DEFAULT_REGION, then the AWS SDK's " +
      "chain (the profile's region, instance metadata).",
  },
  {
    name: "ddb-dedup-table",
    env: "DDB_DEDUP_TABLE",
    kind: "string",
    modes: ["live", "setup"],
    help: "Optional table of applied Kafka offsets per partition; lets live skip replayed " +
      "messages without reading the ledger (see docs/data-model.md).",
  },
  {
    name: "kafka-session-timeout-ms",
    env: "KAFKA_SESSION_TIMEOUT_MS",
    kind: "integer",
    default: "30000",
    modes: ["live"],
    help: "Consumer-group session timeout: how long a crashed worker's partitions wait " +
      "before the group hands them to another worker.",
  },
  {
    name: "kafka-partitions-concurrency",
    env: "KAFKA_PARTITIONS_CONCURRENCY",
    kind: "integer",
    default: "3",
    modes: ["live"],
    help: "Batches of different partitions a worker applies at once (each with " +
      "--write-concurrency requests in flight); 1 applies one partition's batch at a time.",
  },
  {
    name: "cdc-format",
    env: "CDC_FORMAT",
    kind: "string",
    default: "auto",
    choices: ["auto", "debezium", "flattened", "raw"],
    modes: ["bootstrap", "live"],
    help:
      "Topic format: auto (detect per message), debezium, flattened (ExtractNewDocumentState; " +
      "tombstones are deletes) or raw (order JSON: no deletes, no position). With raw, " +
      "bootstrap records the topic's end offsets in the handoff row and live starts there.",
  },
  {
    name: "replay-before-handoff",
    kind: "boolean",
    default: "false",
    modes: ["live"],
    help: "With --cdc-format=raw and a handoff row without topic offsets, let a consumer group " +
      "with no committed offsets read the topic from its start: history from before the " +
      "bootstrap then counts as new writes. Without it, live refuses (exit 4).",
  },
  {
    name: "dlq-topic",
    env: "DLQ_TOPIC",
    kind: "string",
    modes: ["live", "setup"],
    help: "Dead-letter topic for messages that cannot be applied (headers name the source " +
      "topic, partition, offset and reason). Unset: such messages are logged in full.",
  },
  {
    name: "dlq-compression",
    env: "DLQ_COMPRESSION",
    kind: "string",
    default: "none",
    choices: ["none", "gzip", "snappy", "lz4", "zstd"],
    modes: ["live"],
    help: "Compression of the dead-letter topic's record batches. (The CDC topic is read " +
      "in whatever codec its producer chose.)",
  },
  {
    name: "max-record-bytes",
    env: "MAX_RECORD_BYTES",
    kind: "integer",
    default: "1048576",
    modes: ["live"],
    help: "Largest CDC message (key plus value bytes) live parses; a longer one is " +
      "dead-lettered unread as too_large. The default is Kafka's own default message size.",
  },
  {
    name: "wait-for-handoff",
    env: "WAIT_FOR_HANDOFF",
    kind: "boolean",
    default: "true",
    modes: ["live"],
    help: "Wait for a running or missing bootstrap to complete (--no-wait-for-handoff: exit 4).",
  },
  {
    name: "handoff-timeout",
    env: "HANDOFF_TIMEOUT_SECONDS",
    kind: "integer",
    default: "3600",
    modes: ["live"],
    help: "Seconds to wait for the handoff before exiting with code 4.",
  },
  {
    name: "http-port",
    env: "HTTP_PORT",
    kind: "integer",
    default: "8080",
    max: 65535,
    modes: ["live", "serve"],
    help: "Port for /healthz, /readyz, /metrics (Prometheus) and, in serve mode or with " +
      "--serve-api, the read API /v1/totals.",
  },
  {
    name: "serve-api",
    env: "SERVE_API",
    kind: "boolean",
    default: "false",
    modes: ["live"],
    help: "Also serve the read API (/v1/totals, see docs/api.md) on the live worker's --http-port.",
  },
  {
    name: "force",
    kind: "boolean",
    default: "false",
    modes: ["bootstrap"],
    help: "Bootstrap even though a live worker has advanced the state: deletes this " +
      "pipeline's totals and ledger and rebuilds them. Stop live workers first.",
  },
  {
    name: "allow-no-change-streams",
    kind: "boolean",
    default: "false",
    modes: ["bootstrap"],
    help: "Bootstrap against a server without change streams: no resume token is " +
      "captured, so live mode cannot skip events before the handoff (it replays the topic).",
  },
  {
    name: "batch-size",
    env: "BATCH_SIZE",
    kind: "integer",
    default: "1000",
    modes: ["bootstrap"],
    help: "Documents per MongoDB cursor batch.",
  },
  {
    name: "parallel",
    env: "BOOTSTRAP_PARALLEL",
    kind: "integer",
    default: "1",
    modes: ["bootstrap"],
    help: "Split the collection into this many _id ranges (segments) and scan them " +
      "concurrently in this process; one handoff at the end. Re-running after a crash " +
      "resumes the plan: finished segments are kept.",
  },
  {
    name: "segment",
    env: "BOOTSTRAP_SEGMENT",
    kind: "string",
    modes: ["bootstrap"],
    help: "Scan only segment i of N (i/N, numbered from 0, e.g. 0/3) of a segmented " +
      "bootstrap, to spread it over processes or machines: start i = 0…N-1 with the same N. " +
      "The process finishing the last segment writes the handoff. Not with --parallel.",
  },
  {
    name: "bootstrap-lease-seconds",
    env: "BOOTSTRAP_LEASE_SECONDS",
    kind: "integer",
    default: "30",
    modes: ["bootstrap"],
    help: "Lease of a bootstrap's claims (pipeline, segment), renewed every third of it; a " +
      "crashed run's claim is taken over a further lease after it ended.",
  },
  {
    name: "write-concurrency",
    env: "WRITE_CONCURRENCY",
    kind: "integer",
    default: "16",
    modes: ["bootstrap", "live"],
    help: "DynamoDB write requests in flight per bootstrap segment or live batch.",
  },
  {
    name: "ledger-cache-entries",
    env: "LEDGER_CACHE_ENTRIES",
    kind: "integer",
    default: "100000",
    min: 0,
    modes: ["live"],
    help: "Ledger entries a worker remembers of the orders it wrote, to use as the " +
      "transaction's condition instead of reading them again (a stale one fails and is " +
      "read); about 0.35 KB each, 34 MB at the default, at most a third of the V8 heap " +
      "limit. 0 reads every entry.",
  },
  {
    name: "bad-records-file",
    env: "BAD_RECORDS_FILE",
    kind: "string",
    default: "bad-records.jsonl",
    modes: ["bootstrap", "audit"],
    help: "Where bootstrap writes documents it cannot decode (JSON lines: where, kind, reason, " +
      "document); audit reads it to say which rejected orders bootstrap recorded.",
  },
  {
    name: "create-topic",
    kind: "boolean",
    default: "false",
    modes: ["setup"],
    help: "Also create the Kafka topic (and the DLQ topic when set).",
  },
  {
    name: "topic-partitions",
    env: "KAFKA_TOPIC_PARTITIONS",
    kind: "integer",
    default: "3",
    modes: ["setup"],
    help: "Partitions for --create-topic.",
  },
  {
    name: "customer",
    kind: "string",
    modes: ["totals", "audit"],
    help: "Print (totals) or audit only this customer's total, by key: c42 for a string id, " +
      "n:42 for a number.",
  },
  {
    name: "audit-rate",
    env: "AUDIT_RATE",
    kind: "integer",
    default: "1000",
    modes: ["audit"],
    help: "DynamoDB items the audit reads per second at most (its load on the totals table).",
  },
  {
    name: "audit-settle-seconds",
    env: "AUDIT_SETTLE_SECONDS",
    kind: "integer",
    default: "60",
    modes: ["audit"],
    help: "How long customers that differ are re-read (changes live has not applied yet) " +
      "before a difference counts as drift.",
  },
  {
    name: "audit-metrics-file",
    env: "AUDIT_METRICS_FILE",
    kind: "string",
    modes: ["audit"],
    help: "Also write the audit's figures to this file as Prometheus text (for cron jobs and " +
      "node_exporter's textfile collector).",
  },
  {
    name: "log-level",
    env: "LOG_LEVEL",
    kind: "string",
    default: "info",
    choices: ["debug", "info", "warn", "error"],
    modes: [],
    help: "Lowest log level written to stderr (JSON lines).",
  },
  {
    name: "help",
    short: "h",
    kind: "boolean",
    default: "false",
    modes: [],
    help: "Show this help.",
  },
  {
    name: "version",
    kind: "boolean",
    default: "false",
    modes: [],
    help: "Print the version of orderstats and of the runtime.",
  },
];
