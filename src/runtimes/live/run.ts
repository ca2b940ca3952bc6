/**
 * The live runtime: a Kafka consumer-group member that applies CDC batches to the
 * pipeline's state and commits offsets only after the batch is durable. A crash at
 * any instant replays from the last commit; the ledger makes the replay harmless.
 *
 * @module
 */
import type { Pipeline } from "../../pipeline/pipeline.ts";
import { isGroup } from "../../pipeline/monoid.ts";
import type { AppliedOffsetsStore, StateStore } from "../../state/store.ts";
import type { CdcFormat, CdcMessage } from "../../sources/cdc/mod.ts";
import {
  type DeadLetterSink,
  KafkaDeadLetters,
  LoggedDeadLetters,
} from "../../sources/kafka/dead_letters.ts";
import { kafkaClient, type KafkaConnection } from "../../sources/kafka/client.ts";
import type { Compression } from "../../sources/kafka/codecs.ts";
import { connectKafka } from "../../sources/kafka/connect.ts";
import { isTransientDynamoError } from "../../state/dynamodb/client.ts";
import { contributionCodec } from "../../pipeline/contribution.ts";
import { fieldNames } from "../../pipeline/fields.ts";
import { applyBatch, type BatchContext } from "./batch.ts";
import { awaitHandoff } from "./handoff.ts";
import { serveHttp } from "../http.ts";
import { ApiMetrics, type ApiOptions, totalsRoutes } from "../serve/api.ts";
import { LiveMetrics } from "./metrics.ts";
import { ConfigError } from "../../util/errors.ts";
import { errorFields, log } from "../../util/log.ts";

/** How often live mode logs its counters. */
const PROGRESS_MS = 30_000;

/** Options for {@link runLive}. */
export interface LiveOptions {
  pipeline: Pipeline<bigint, StateStore>;
  kafka: KafkaConnection;
  topic: string;
  groupId: string;
  format: CdcFormat;
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
  waitForHandoff: boolean;
  handoffTimeoutMs: number;
  concurrency: number;
  /** Aborting stops fetching, finishes the batch in hand, commits and leaves the group. */
  signal: AbortSignal;
}

/** Runs until `signal` aborts (resolves) or the consumer fails for good (rejects). */
export async function runLive(options: LiveOptions): Promise<void> {
  const { pipeline, signal } = options;
  const group = pipeline.monoid;
  if (!isGroup(group)) {
    throw new ConfigError(
      `Pipeline "${pipeline.name}" aggregates with ${group.name}, which has no inverse: ` +
        "live mode needs one to apply updates and deletes exactly",
    );
  }
  const metrics = new LiveMetrics();
  let progress: ReturnType<typeof setInterval> | undefined;
  const status = { handoff: false, joined: false, failed: false };
  // The server stops with the worker, whether it stops on the signal or on a failure.
  const httpStop = new AbortController();
  const api = options.api && new ApiMetrics();
  const http = options.httpPort === undefined ? undefined : serveHttp(
    options.httpPort,
    {
      healthy: () => !status.failed,
      ready: () => status.handoff && status.joined && !status.failed,
      metrics: () => metrics.render() + (api?.render() ?? ""),
    },
    AbortSignal.any([signal, httpStop.signal]),
    api && totalsRoutes(pipeline.store, pipeline.name, { ...options.api, metrics: api }),
  );

  const kafka = kafkaClient(options.kafka);
  const producer = options.dlqTopic === undefined ? undefined : kafka.producer();
  const consumer = kafka.consumer({
    groupId: options.groupId,
    // Bigger fetches fold more events per order and customer into one transaction.
    maxBytesPerPartition: 8 * 1024 * 1024,
    sessionTimeout: options.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: Math.min(3_000, Math.floor((options.sessionTimeoutMs ?? 30_000) / 3)),
    retry: { restartOnFailure: (error) => Promise.resolve(isTransientDynamoError(error)) },
  });
  try {
    // Before the handoff wait: unreachable brokers or wrong credentials fail the start.
    await connectKafka(options.kafka, () => consumer.connect());
    if (producer) await connectKafka(options.kafka, () => producer.connect());
    const handoff = await awaitHandoff({
      store: pipeline.store,
      pipeline: pipeline.name,
      wait: options.waitForHandoff,
      timeoutMs: options.handoffTimeoutMs,
      signal,
    });
    status.handoff = true;
    log("info", "handoff", {
      pipeline: pipeline.name,
      runId: handoff.runId,
      clusterTime: handoff.clusterTime,
      documents: handoff.documents,
    });
    const deadLetters: DeadLetterSink = producer
      ? new KafkaDeadLetters(producer, options.dlqTopic!, options.dlqCompression)
      : new LoggedDeadLetters();

    const stopped = new Promise<void>((resolve, reject) => {
      signal.addEventListener("abort", () => resolve(), { once: true });
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (payload.restart) return;
        status.failed = true;
        reject(payload.error);
      });
    });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      status.joined = true;
      log("info", "joined consumer group", {
        groupId: payload.groupId,
        assignment: payload.memberAssignment,
      });
    });
    progress = setInterval(() => log("info", "live progress", metrics.summary()), PROGRESS_MS);
    await consumer.subscribe({ topic: options.topic, fromBeginning: true });
    const base: Omit<BatchContext, "heartbeat"> = {
      pipeline: pipeline.name,
      store: pipeline.store,
      group,
      codec: contributionCodec(pipeline.fields),
      fields: fieldNames(pipeline.fields),
      format: options.format,
      handoffTime: handoff.clusterTime,
      deadLetters,
      metrics,
      concurrency: options.concurrency,
      signal,
    };
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, heartbeat, resolveOffset, isRunning, isStale }) => {
        if (batch.messages.length === 0 || !isRunning() || isStale()) return;
        const started = performance.now();
        const applied = await options.appliedOffsets?.applied(batch.topic, batch.partition) ?? -1n;
        const messages: CdcMessage[] = batch.messages
          .filter((m) => BigInt(m.offset) > applied)
          .map((m) => ({
            topic: batch.topic,
            partition: batch.partition,
            offset: m.offset,
            key: m.key,
            value: m.value,
          }));
        metrics.alreadyApplied.inc({}, batch.messages.length - messages.length);
        await applyBatch({ ...base, heartbeat }, messages);
        const last = batch.lastOffset();
        await options.appliedOffsets?.advance(batch.topic, batch.partition, BigInt(last));
        resolveOffset(last);
        await consumer.commitOffsets([{
          topic: batch.topic,
          partition: batch.partition,
          offset: (BigInt(last) + 1n).toString(),
        }]);
        metrics.lag.set(Number(BigInt(batch.highWatermark) - BigInt(last) - 1n), {
          partition: String(batch.partition),
        });
        metrics.batchSeconds.observe((performance.now() - started) / 1000);
      },
    });
    await stopped;
    log("info", "stopping: finishing the batch in hand and leaving the group");
  } catch (error) {
    status.failed = true;
    if (!signal.aborted) log("error", "live worker failed", errorFields(error));
    throw error;
  } finally {
    clearInterval(progress);
    await consumer.disconnect();
    await producer?.disconnect();
    httpStop.abort();
    await http?.finished;
  }
}
