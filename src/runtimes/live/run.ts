/**
 * The live runtime: a Kafka consumer-group member that applies CDC batches to the
 * pipeline's state and commits offsets only after the batch is durable. A crash at
 * any instant replays from the last commit; the ledger makes the replay harmless.
 *
 * @module
 */
import type { Consumer, EachBatchPayload } from "kafkajs";
import type { Pipeline } from "../../pipeline/pipeline.ts";
import { type Group, isGroup } from "../../pipeline/monoid.ts";
import type { AppliedOffsetsStore, Handoff, StateStore } from "../../state/store.ts";
import type { CdcFormat, CdcMessage } from "../../sources/cdc/mod.ts";
import {
  type DeadLetterSink,
  KafkaDeadLetters,
  LoggedDeadLetters,
} from "../../sources/kafka/dead_letters.ts";
import { kafkaClient, type KafkaConnection } from "../../sources/kafka/client.ts";
import type { Compression } from "../../sources/kafka/codecs.ts";
import { connectKafka } from "../../sources/kafka/connect.ts";
import { isTransientKafkaError } from "../../sources/kafka/transient.ts";
import { contributionCodec } from "../../pipeline/contribution.ts";
import { fieldNames } from "../../pipeline/fields.ts";
import { applyBatch, type BatchContext } from "./batch.ts";
import { LedgerCache } from "./ledger_cache.ts";
import { awaitHandoff, HandoffMissingError } from "./handoff.ts";
import { hasNoCommittedOffsets } from "../../sources/kafka/offsets.ts";
import { serveHttp } from "../http.ts";
import { ApiMetrics, type ApiOptions, totalsRoutes } from "../serve/api.ts";
import { LiveMetrics } from "./metrics.ts";
import { ConfigError } from "../../util/errors.ts";
import { log } from "../../util/log.ts";
import { retries, sleep } from "../../util/retry.ts";
import { watchLag } from "./lag_watch.ts";

/** How often live mode logs its counters. */
const PROGRESS_MS = 30_000;

/** How long a stop waits for a consumer that has not joined its group to disconnect. */
const UNJOINED_DISCONNECT_MS = 1_000;

/** Options for {@link runLive}. */
export interface LiveOptions {
  pipeline: Pipeline<bigint, StateStore>;
  kafka: KafkaConnection;
  topic: string;
  groupId: string;
  format: CdcFormat;
  /** Longer messages (key plus value bytes) are dead-lettered unread. @default 1048576 */
  maxRecordBytes?: number;
  dlqTopic?: string;
  /** Compression of dead-letter batches. @default "none" */
  dlqCompression?: Compression;
  /** Serve /healthz, /readyz, /metrics here. */
  httpPort?: number;
  /** Also serve the read API (`/v1/totals`) on `httpPort`, presenting customers so. */
  api?: Omit<ApiOptions, "metrics">;
  /** Watermarks of applied offsets (`--ddb-dedup-table`), to skip replays cheaply. */
  appliedOffsets?: AppliedOffsetsStore;
  /** Consumer-group session timeout. @default 30000 */
  sessionTimeoutMs?: number;
  /**
   * Batches of different partitions applied at once. Their orders differ (a topic keyed by
   * `_id`), and totals they share change by conditional transactions, as across workers.
   * @default 1 (the CLI's `--kafka-partitions-concurrency` defaults to 3)
   */
  partitionsConcurrency?: number;
  waitForHandoff: boolean;
  handoffTimeoutMs: number;
  /** Raw JSON without handoff offsets: let a new group read pre-bootstrap history. */
  replayBeforeHandoff?: boolean;
  concurrency: number;
  /** Ledger entries this worker remembers to guess instead of read (0: read every one). */
  ledgerCacheEntries: number;
  /** Aborting stops fetching, finishes the batch in hand, commits and leaves the group. */
  signal: AbortSignal;
}

/** Runs until `signal` aborts (resolves) or the consumer fails for good (rejects). */
export async function runLive(options: LiveOptions): Promise<void> {
  const group = requireGroup(options.pipeline);
  using metrics = new LiveMetrics();
  const health: Health = { handoff: false, joined: false, failed: false };
  // The server stops with the worker, whether it stops on the signal or on a failure.
  await using _http = healthServer(options, health, metrics);
  try {
    await work(options, group, health, metrics);
  } catch (error) {
    // The caller logs the failure once, with its causes.
    health.failed = true;
    throw error;
  }
}

/** What /healthz and /readyz report. */
interface Health {
  handoff: boolean;
  joined: boolean;
  failed: boolean;
}

/** The steps of a live worker's life, its Kafka clients closed however it ends. */
async function work(
  options: LiveOptions,
  group: Group<bigint>,
  health: Health,
  metrics: LiveMetrics,
): Promise<void> {
  await using worker = kafkaWorker(options);
  // Before the handoff wait: unreachable brokers or wrong credentials fail the start.
  await worker.connect();
  // Lag is read from the brokers from now on, also while waiting for the handoff.
  await using _lag = watchLag(
    kafkaClient(options.kafka),
    options.groupId,
    options.topic,
    metrics.lag,
  );
  const handoff = await takeHandoff(options);
  if (options.format === "raw") await checkRawStart(options, handoffOffsets(options, handoff));
  health.handoff = true;
  const stopped = stopOnSignalOrCrash(worker.consumer, options.signal, health, metrics);
  await using _progress = progressLog(metrics);
  await worker.consumer.subscribe({ topic: options.topic, fromBeginning: true });
  const context = batchContext(options, group, handoff, worker.deadLetters(), metrics);
  // Another worker may write the orders of partitions this one lost: forget their entries.
  worker.consumer.on(worker.consumer.events.GROUP_JOIN, ({ payload }) => {
    context.cache.retain(new Set(payload.memberAssignment[options.topic] ?? []));
  });
  const running = worker.consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: options.partitionsConcurrency ?? 1,
    eachBatch: (payload) => handleBatch(payload, worker.consumer, context, options.appliedOffsets),
  });
  // `run` resolves once the group is joined, which after a crash waits out the dead member's
  // session (30 s by default): a stop signal must not wait for it. Disconnecting (on dispose)
  // abandons the join; its failure then no longer matters.
  await Promise.race([running, stopped]);
  running.catch(() => {});
  await stopped;
  log("info", "stopping: finishing the batch in hand and leaving the group");
}

/** The pipeline's monoid as a group; live mode cannot retract without an inverse. */
function requireGroup(pipeline: LiveOptions["pipeline"]): Group<bigint> {
  const monoid = pipeline.monoid;
  if (!isGroup(monoid)) {
    throw new ConfigError(
      `Pipeline "${pipeline.name}" aggregates with ${monoid.name}, which has no inverse: ` +
        "live mode needs one to apply updates and deletes exactly",
    );
  }
  return monoid;
}

/** Serves /healthz, /readyz, /metrics (and with `api` the read API) until disposed. */
function healthServer(options: LiveOptions, health: Health, metrics: LiveMetrics): AsyncDisposable {
  const { pipeline } = options;
  const stop = new AbortController();
  const api = options.api && new ApiMetrics();
  const server = options.httpPort === undefined ? undefined : serveHttp(
    options.httpPort,
    {
      healthy: () => !health.failed,
      // Not ready while DynamoDB does not answer: the worker cannot write, only wait.
      ready: () => health.handoff && health.joined && !health.failed && pipeline.store.answering(),
      metrics: () => metrics.render() + (api?.render() ?? ""),
    },
    AbortSignal.any([options.signal, stop.signal]),
    api && totalsRoutes(pipeline.store, pipeline.name, { ...options.api, metrics: api }),
  );
  return {
    async [Symbol.asyncDispose]() {
      stop.abort();
      await server?.finished;
    },
  };
}

/** The consumer (and the dead-letter producer, with a DLQ topic); disposing disconnects both. */
function kafkaWorker(options: LiveOptions) {
  const kafka = kafkaClient(options.kafka);
  const sessionTimeout = options.sessionTimeoutMs ?? 30_000;
  const producer = options.dlqTopic === undefined ? undefined : kafka.producer();
  const consumer = kafka.consumer({
    groupId: options.groupId,
    // Bigger fetches fold more events per order and customer into one transaction.
    maxBytesPerPartition: 8 * 1024 * 1024,
    sessionTimeout,
    heartbeatInterval: Math.min(3_000, Math.floor(sessionTimeout / 3)),
    // A batch failing on a transient state error, or brokers gone for longer than KafkaJS's
    // own retries, is retried by restarting the consumer in this process (it rejoins the
    // group and refetches from the last committed offsets).
    retry: {
      restartOnFailure: (error) =>
        Promise.resolve(options.pipeline.store.isTransient(error) || isTransientKafkaError(error)),
    },
  });
  let hasJoined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => hasJoined = true);
  const joined = () => hasJoined;
  return {
    consumer,
    async connect(): Promise<void> {
      await connectKafka(options.kafka, () => consumer.connect());
      if (producer) await connectKafka(options.kafka, () => producer.connect());
    },
    /** Where messages that cannot be applied go. */
    deadLetters(): DeadLetterSink {
      return producer
        ? new KafkaDeadLetters(producer, options.dlqTopic!, options.dlqCompression)
        : new LoggedDeadLetters();
    },
    async [Symbol.asyncDispose]() {
      await disconnectConsumer(consumer, joined);
      await producer?.disconnect();
    },
  };
}

/**
 * Before the worker joined, KafkaJS's disconnect waits for the JoinGroup request in flight,
 * which a crashed member's session holds up to the session timeout (30 s by default, often
 * an orchestrator's whole grace period): that wait is abandoned after a bound. The process
 * exits right after; nothing was consumed, so nothing is lost. Once joined, disconnecting
 * finishes the batch in hand, commits and leaves the group.
 */
async function disconnectConsumer(consumer: Consumer, joined: () => boolean): Promise<void> {
  const disconnected = consumer.disconnect();
  if (joined()) return await disconnected;
  disconnected.catch(() => {});
  const left = await Promise.race([
    disconnected.then(() => true),
    sleep(UNJOINED_DISCONNECT_MS).then(() => false),
  ]);
  if (!left) log("info", "stopped while joining the consumer group; not waiting for the join");
}

/** Waits for the bootstrap's handoff and marks it live. */
async function takeHandoff({ pipeline, ...options }: LiveOptions): Promise<Handoff> {
  const handoff = await awaitHandoff({
    store: pipeline.store,
    pipeline: pipeline.name,
    wait: options.waitForHandoff,
    timeoutMs: options.handoffTimeoutMs,
    signal: options.signal,
  });
  log("info", "handoff", {
    pipeline: pipeline.name,
    runId: handoff.runId,
    clusterTime: handoff.clusterTime,
    documents: handoff.documents,
  });
  return handoff;
}

/** Resolves when `signal` aborts, rejects when the consumer crashes for good. */
function stopOnSignalOrCrash(
  consumer: Consumer,
  signal: AbortSignal,
  health: Health,
  metrics: LiveMetrics,
) {
  const stopped = new Promise<void>((resolve, reject) => {
    signal.addEventListener("abort", () => resolve(), { once: true });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) {
        retries.inc();
        // Not ready until the restarted consumer has joined the group again.
        health.joined = false;
        log("warn", "consumer restarting after a transient failure", {
          error: payload.error.message,
        });
        return;
      }
      health.failed = true;
      reject(payload.error);
    });
  });
  consumer.on(consumer.events.REBALANCING, ({ payload }) => {
    metrics.rebalances.inc();
    log("info", "consumer group rebalancing", { groupId: payload.groupId });
  });
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    health.joined = true;
    log("info", "joined consumer group", {
      groupId: payload.groupId,
      assignment: payload.memberAssignment,
    });
  });
  return stopped;
}

/** Logs the counters every {@link PROGRESS_MS} until disposed. */
function progressLog(metrics: LiveMetrics): AsyncDisposable {
  const timer = setInterval(() => log("info", "live progress", metrics.summary()), PROGRESS_MS);
  return { [Symbol.asyncDispose]: () => Promise.resolve(clearInterval(timer)) };
}

/** What every batch of this worker shares. */
function batchContext(
  options: LiveOptions,
  group: Group<bigint>,
  handoff: Handoff,
  deadLetters: DeadLetterSink,
  metrics: LiveMetrics,
): Omit<BatchContext, "heartbeat"> & { cache: LedgerCache } {
  const { pipeline } = options;
  return {
    pipeline: pipeline.name,
    store: pipeline.store,
    group,
    codec: contributionCodec(pipeline.fields),
    fields: fieldNames(pipeline.fields),
    format: options.format,
    maxRecordBytes: options.maxRecordBytes,
    handoffTime: handoff.clusterTime,
    handoffOffsets: handoffOffsets(options, handoff),
    deadLetters,
    metrics,
    concurrency: options.concurrency,
    cache: new LedgerCache(options.ledgerCacheEntries),
    signal: options.signal,
  };
}

/**
 * One Kafka batch: skip what the watermark says is applied, apply the rest, record the
 * watermark, commit the offsets (only now that the batch is durable), update the metrics.
 */
async function handleBatch(
  { batch, heartbeat, resolveOffset, isRunning, isStale }: EachBatchPayload,
  consumer: Consumer,
  context: Omit<BatchContext, "heartbeat">,
  appliedOffsets: AppliedOffsetsStore | undefined,
): Promise<void> {
  if (batch.messages.length === 0 || !isRunning() || isStale()) return;
  const { topic, partition } = batch;
  const started = performance.now();
  const applied = await appliedOffsets?.applied(topic, partition) ?? -1n;
  const messages: CdcMessage[] = batch.messages
    .filter((m) => BigInt(m.offset) > applied)
    .map((m) => ({ topic, partition, offset: m.offset, key: m.key, value: m.value }));
  context.metrics.alreadyApplied.inc({}, batch.messages.length - messages.length);
  await applyBatch({ ...context, heartbeat }, messages);
  const last = batch.lastOffset();
  await appliedOffsets?.advance(topic, partition, BigInt(last));
  resolveOffset(last);
  await consumer.commitOffsets([{ topic, partition, offset: (BigInt(last) + 1n).toString() }]);
  context.metrics.lag.set(Number(BigInt(batch.highWatermark) - BigInt(last) - 1n), {
    partition: String(partition),
  });
  context.metrics.batchSeconds.observe((performance.now() - started) / 1000);
}

/** The topic offsets the handoff recorded, when they are of this worker's topic. */
function handoffOffsets(options: LiveOptions, handoff: Handoff): Handoff["topicOffsets"] {
  return handoff.topic === options.topic ? handoff.topicOffsets : undefined;
}

const RAW_LIMITS =
  "raw order JSON: no deletes (an order deleted in MongoDB keeps its total until " +
  "the next bootstrap) and no position (one order's messages must share a partition, a re-sent " +
  "message counts as a new write); exact: inserts and updates after the handoff offsets";

/**
 * Says what raw JSON can and cannot keep exact, and refuses to let a new consumer group
 * replay pre-bootstrap history into the totals when the handoff recorded no topic offsets.
 */
async function checkRawStart(
  options: LiveOptions,
  handoffOffsets: Handoff["topicOffsets"],
): Promise<void> {
  log("warn", RAW_LIMITS, { topic: options.topic });
  if (handoffOffsets !== undefined || options.replayBeforeHandoff) return;
  if (await hasNoCommittedOffsets(options.kafka, options.groupId, options.topic)) {
    throw new HandoffMissingError(
      `The handoff row of pipeline "${options.pipeline.name}" has no offsets of topic ` +
        `"${options.topic}", and consumer group "${options.groupId}" has none committed: ` +
        "raw JSON would replay the topic from its start, history before the bootstrap " +
        "included. Bootstrap with --cdc-format=raw (it records where live starts), or pass " +
        "--replay-before-handoff to replay anyway.",
    );
  }
}
