/**
 * DEV/TEST ONLY. The relay loop: a MongoDB change stream in, Debezium MongoDB records out to
 * Kafka, the resume token of the last produced event saved after each send (at-least-once:
 * after a crash the last events may be produced again, never skipped).
 *
 * @module
 */
import { Kafka, logLevel, Partitioners, type RetryOptions } from "kafkajs";
import { MongoClient } from "mongodb";
import { muteKafkajsTimerWarning } from "../../src/sources/kafka/client.ts";
import {
  type DebeziumRecord,
  type RelayChangeEvent,
  toDebeziumRecord,
  toFlattenedRecord,
  tombstoneFor,
} from "./record.ts";
import { loadResumeToken, type ResumeToken, saveResumeToken } from "./resume_state.ts";
import { rng } from "../lib/workload.ts";

/** Options for {@link runRelay}. */
export interface RelayOptions {
  mongoUri: string;
  db: string;
  collection: string;
  brokers: string[];
  topic: string;
  /** `source.name`. @default {db} */
  name?: string;
  /** Debezium version to imitate. @default {"2.7.0.Final"} */
  version?: string;
  /** Wrap key and value in `{schema, payload}`. @default {false} */
  schemas?: boolean;
  /** Write what the ExtractNewDocumentState SMT makes of each event (deletes as tombstones). @default {false} */
  flatten?: boolean;
  /** Where the last resume token is kept; without it a restart starts from now. */
  stateFile?: string;
  /** Start from this token, whatever the state file says. */
  resumeAfter?: ResumeToken;
  /** Ignore the state file and start from now. @default {false} */
  fromNow?: boolean;
  /**
   * How the producer retries a send (KafkaJS's `retry`), e.g. long enough to ride out a
   * broker outage as Kafka Connect would. @default KafkaJS's (about 10 s in all)
   */
  retry?: RetryOptions;
  /** Called once the change stream is open (its first `aggregate` answered). */
  onReady?: () => void;
  /** Progress lines. @default {console.error} */
  log?: (line: string) => void;
  /**
   * Share (0..1) of events whose records are produced a second time, after the next event's
   * (as a connector redelivers after a restart). @default {0}
   */
  duplicateShare?: number;
  /** Seed of the choice of which events are duplicated. @default {1} */
  duplicateSeed?: number;
  /** Counters to update as the relay goes (to read them while it runs). */
  stats?: RelayStats;
}

/** What a relay run did. */
export interface RelayStats {
  events: number;
  /** Records produced, duplicates included. */
  records: number;
  /** Records produced a second time by `duplicateShare`. */
  duplicated: number;
}

/** Holds a seeded share of events' records back, to be produced again with the next send. */
class Redelivery<R> {
  readonly #random: () => number;
  #held: R[] = [];
  constructor(private readonly share: number, seed: number) {
    this.#random = rng(seed);
  }
  /** What to produce for `records`: them, then the duplicates held from before. */
  next(records: R[]): R[] {
    const out = [...records, ...this.#held];
    this.#held = this.share > 0 && this.#random() < this.share ? records : [];
    return out;
  }
  /** The duplicates still held (produced when the stream is idle or stops). */
  drain(): R[] {
    const held = this.#held;
    this.#held = [];
    return held;
  }
}

/** Runs until `signal` aborts, then closes the stream, the producer and the client. */
export async function runRelay(options: RelayOptions, signal: AbortSignal): Promise<RelayStats> {
  const { db, collection, topic, log = (line) => console.error(line) } = options;
  const recordOptions = {
    name: options.name ?? db,
    db,
    collection,
    version: options.version ?? "2.7.0.Final",
    schemas: options.schemas ?? false,
  };
  let token = options.resumeAfter;
  if (!token && !options.fromNow && options.stateFile) {
    token = await loadResumeToken(options.stateFile);
  }
  log(
    `debezium-relay: ${db}.${collection} → ${topic}, ${
      token ? "resuming after saved token" : "from now"
    }`,
  );

  muteKafkajsTimerWarning();
  const kafka = new Kafka({
    clientId: "debezium-relay",
    brokers: options.brokers,
    logLevel: logLevel.WARN,
    retry: options.retry,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) {
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    }
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer({
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  // promoteValues: false keeps Int32/Long/Double apart, as Debezium's Java driver does.
  const client = new MongoClient(options.mongoUri, { promoteValues: false, promoteLongs: false });
  const stats: RelayStats = options.stats ?? { events: 0, records: 0, duplicated: 0 };
  const redelivery = new Redelivery<DebeziumRecord>(
    options.duplicateShare ?? 0,
    options.duplicateSeed ?? 1,
  );
  const send = async (messages: DebeziumRecord[], duplicates: number) => {
    if (messages.length === 0) return;
    await producer.send({ topic, acks: -1, messages });
    stats.records += messages.length;
    stats.duplicated += duplicates;
  };
  try {
    await client.connect();
    const stream = client.db(db).collection(collection).watch([], {
      fullDocument: "updateLookup",
      fullDocumentBeforeChange: "whenAvailable",
      maxAwaitTimeMS: 500,
      ...(token ? { resumeAfter: token } : {}),
    });
    const close = () => void stream.close().catch(() => {});
    signal.addEventListener("abort", close, { once: true });
    let ready = false;
    let saved = JSON.stringify(token ?? null);
    try {
      while (!signal.aborted) {
        let event: RelayChangeEvent | null;
        try {
          event = await stream.tryNext() as RelayChangeEvent | null;
        } catch (error) {
          if (signal.aborted) break;
          throw error;
        }
        if (!ready) {
          ready = true;
          options.onReady?.();
        }
        if (event !== null) {
          stats.events++;
          const record = options.flatten
            ? toFlattenedRecord(event, recordOptions)
            : toDebeziumRecord(event, recordOptions);
          if (record !== null) {
            const records = event.operationType === "delete" && !options.flatten
              ? [record, tombstoneFor(record)]
              : [record];
            const messages = redelivery.next(records);
            await send(messages, messages.length - records.length);
          }
        } else {
          const held = redelivery.drain();
          await send(held, held.length);
        }
        // After a send, or when idle (the post-batch token moves on without events).
        const current = stream.resumeToken as ResumeToken | null;
        if (options.stateFile && current && JSON.stringify(current) !== saved) {
          await saveResumeToken(options.stateFile, current);
          saved = JSON.stringify(current);
        }
      }
    } finally {
      signal.removeEventListener("abort", close);
      await stream.close().catch(() => {});
    }
  } finally {
    await producer.disconnect().catch(() => {});
    await client.close().catch(() => {});
    log(
      `debezium-relay: stopped after ${stats.events} events, ${stats.records} records (${stats.duplicated} duplicated)`,
    );
  }
  return stats;
}
