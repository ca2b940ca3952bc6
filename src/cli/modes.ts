/**
 * What each `--mode` does, with its connections opened and closed around it.
 *
 * @module
 */
import type { Config } from "./config.ts";
import { dynamoClient } from "../state/dynamodb/client.ts";
import { DynamoStore } from "../state/dynamodb/store.ts";
import { ensureTable } from "../state/dynamodb/tables.ts";
import { MongoSnapshotSource } from "../sources/mongo/snapshot.ts";
import { mongoClient } from "../sources/mongo/client.ts";
import { type BootstrapOptions, runBootstrap } from "../runtimes/bootstrap.ts";
import { runSegmentedBootstrap } from "../runtimes/segmented.ts";
import { orderTotals } from "../app/orderstats.ts";
import { customerIdJson } from "../pipeline/bson_values.ts";
import { runLive } from "../runtimes/live/run.ts";
import { runServe } from "../runtimes/serve/run.ts";
import { AuditDriftError, runAudit } from "../runtimes/audit/run.ts";
import { auditMetricsText, writeTextAtomically } from "../runtimes/audit/metrics.ts";
import { orderReference } from "../app/audit_reference.ts";
import { kafkaClient } from "../sources/kafka/client.ts";
import { connectKafka } from "../sources/kafka/connect.ts";
import { topicEndOffsets } from "../sources/kafka/offsets.ts";
import { log, toJson } from "../util/log.ts";
import { redactUri } from "../util/redact.ts";

function store(config: Config): DynamoStore {
  return new DynamoStore({
    client: dynamoClient(config.ddb),
    table: config.ddb.table,
    ledgerTable: config.ddb.ledgerTable,
    concurrency: config.writeConcurrency,
  });
}

/** `--mode=setup`: tables (and optionally the topic), idempotently. */
export async function setup(config: Config): Promise<void> {
  const client = dynamoClient(config.ddb);
  try {
    for (const table of [config.ddb.table, config.ddb.ledgerTable, config.ddb.dedupTable]) {
      if (table === undefined) continue;
      const created = await ensureTable(client, table);
      log("info", created ? "table created" : "table exists", { table });
    }
  } finally {
    client.destroy();
  }
  if (!config.createTopic) return;
  const admin = kafkaClient(config.kafka.connection).admin();
  await connectKafka(config.kafka.connection, () => admin.connect());
  try {
    for (const topic of [config.kafka.topic, config.kafka.dlqTopic]) {
      if (topic === undefined) continue;
      const created = await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic, numPartitions: config.kafka.partitions }],
      });
      log("info", created ? "topic created" : "topic exists", { topic });
    }
  } finally {
    await admin.disconnect();
  }
}

function connectingMongo(config: Config): ReturnType<typeof mongoClient> {
  log("info", "connecting to MongoDB", { uri: redactUri(config.mongo.uri) });
  return mongoClient(config.mongo.uri);
}

/** `--mode=bootstrap`: prints one summary JSON line on stdout. */
export async function bootstrap(config: Config, signal: AbortSignal): Promise<void> {
  const mongo = connectingMongo(config);
  await using state = store(config);
  try {
    await mongo.connect();
    const collection = mongo.db(config.mongo.db).collection(config.mongo.collection);
    const options: BootstrapOptions = {
      pipeline: orderTotals(config.pipeline, state),
      source: new MongoSnapshotSource(mongo, collection),
      batchSize: config.mongo.batchSize,
      badRecordsFile: config.bootstrap.badRecordsFile,
      force: config.bootstrap.force,
      allowNoChangeStreams: config.bootstrap.allowNoChangeStreams,
      leaseMs: config.bootstrap.leaseSeconds * 1000,
      // Raw JSON has no position: live starts from the topic's end at the handoff.
      topicEnd: config.kafka.format === "raw"
        ? {
          topic: config.kafka.topic,
          offsets: () => topicEndOffsets(config.kafka.connection, config.kafka.topic),
        }
        : undefined,
      signal,
    };
    const segments = config.bootstrap.segments;
    if (segments === undefined) {
      console.log(toJson({ event: "bootstrap_complete", ...await runBootstrap(options) }));
      return;
    }
    const summary = await runSegmentedBootstrap({
      ...options,
      segments: segments.count,
      run: segments.run,
    });
    // Only the process that wrote the handoff completed the bootstrap.
    const event = summary.handoff ? "bootstrap_complete" : "bootstrap_segments_done";
    console.log(toJson({ event, ...summary }));
  } finally {
    await mongo.close();
  }
}

/** `--mode=totals`: one JSON line per key on stdout. */
export async function totals(config: Config): Promise<void> {
  await using state = store(config);
  const rows = config.customer === undefined
    ? state.totals(config.pipeline)
    : [await state.total(config.pipeline, config.customer)].filter((row) => row !== undefined);
  for await (const row of rows) {
    // customer_id keeps its type (42 or "42"); the total is a string to stay exact.
    console.log(`{"customer_id":${customerIdJson(row.key)},"total":${toJson(row.total)}}`);
  }
}

/**
 * `--mode=audit`: one summary JSON line on stdout (and the metrics file); throws
 * {@link AuditDriftError} (exit 7) when totals still differ after re-checks.
 */
export async function audit(config: Config, signal: AbortSignal): Promise<void> {
  const mongo = connectingMongo(config);
  await using state = store(config);
  try {
    await mongo.connect();
    const collection = mongo.db(config.mongo.db).collection(config.mongo.collection);
    const summary = await runAudit({
      pipeline: config.pipeline,
      store: state,
      reference: orderReference(collection, config.bootstrap.badRecordsFile),
      key: config.customer,
      readsPerSecond: config.audit.readsPerSecond,
      settleMs: config.audit.settleSeconds * 1000,
      signal,
    });
    console.log(toJson({ event: "audit_complete", ...summary }));
    if (config.audit.metricsFile !== undefined) {
      await writeTextAtomically(config.audit.metricsFile, auditMetricsText(summary, new Date()));
    }
    if (summary.drifted > 0) throw new AuditDriftError(summary.drifted, summary.compared);
  } finally {
    await mongo.close();
  }
}

/** `--mode=serve`: the read API until SIGTERM/SIGINT. */
export async function serve(config: Config, signal: AbortSignal): Promise<void> {
  await using state = store(config);
  await runServe({
    reader: state,
    pipeline: config.pipeline,
    port: config.live.httpPort,
    api: { customerJson: customerIdJson },
    signal,
  });
}

/** `--mode=live`: runs until SIGTERM/SIGINT. */
export async function live(config: Config, signal: AbortSignal): Promise<void> {
  await using state = store(config);
  await runLive({
    pipeline: orderTotals(config.pipeline, state),
    kafka: config.kafka.connection,
    topic: config.kafka.topic,
    groupId: config.kafka.consumerGroup,
    format: config.kafka.format,
    maxRecordBytes: config.live.maxRecordBytes,
    dlqTopic: config.kafka.dlqTopic,
    dlqCompression: config.kafka.dlqCompression,
    httpPort: config.live.httpPort,
    api: config.live.serveApi ? { customerJson: customerIdJson } : undefined,
    sessionTimeoutMs: config.live.sessionTimeoutMs,
    partitionsConcurrency: config.live.partitionsConcurrency,
    appliedOffsets: config.ddb.dedupTable === undefined
      ? undefined
      : state.appliedOffsets(config.ddb.dedupTable, config.kafka.consumerGroup),
    replayBeforeHandoff: config.live.replayBeforeHandoff,
    waitForHandoff: config.live.waitForHandoff,
    handoffTimeoutMs: config.live.handoffTimeoutSeconds * 1000,
    concurrency: config.writeConcurrency,
    ledgerCacheEntries: config.live.ledgerCacheEntries,
    signal,
  });
}
