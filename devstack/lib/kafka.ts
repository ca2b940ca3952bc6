/**
 * Kafka and relay helpers for the live-mode tests and benchmarks: a Debezium stand-in relaying
 * the scenario's change stream, and reading or producing topic messages directly.
 *
 * @module
 */
import { Kafka, logLevel, type Message } from "kafkajs";
import { type RelayOptions, type RelayStats, runRelay } from "../debezium/relay.ts";
import { muteKafkajsTimerWarning } from "../../src/sources/kafka/client.ts";
import { registerCodecs } from "../../src/sources/kafka/codecs.ts";
import { kafkaBrokers, mongoUri } from "./env.ts";
import type { Scenario } from "./scenario.ts";

/** A Kafka client for the local stack, reading every codec orderstats reads. */
export function testKafka(): Kafka {
  muteKafkajsTimerWarning();
  registerCodecs();
  return new Kafka({
    clientId: "orderstats-test",
    brokers: kafkaBrokers(),
    logLevel: logLevel.ERROR,
  });
}

/** A running relay (MongoDB change stream → Debezium events on the scenario's topic). */
export interface Relay {
  /** What it relayed so far. */
  readonly stats: RelayStats;
  /** Stops the relay; resolves with what it relayed. */
  stop(): Promise<RelayStats>;
}

/**
 * Starts the relay (from "now" unless `extra` says otherwise) and resolves once its change
 * stream is open.
 */
export async function startRelay(
  target: Pick<Scenario, "db" | "collection" | "topic">,
  extra: Partial<RelayOptions> = {},
): Promise<Relay> {
  const controller = new AbortController();
  let ready!: () => void;
  const opened = new Promise<void>((resolve) => ready = resolve);
  const stats: RelayStats = { events: 0, records: 0, duplicated: 0 };
  const running = runRelay({
    mongoUri: mongoUri(),
    db: target.db,
    collection: target.collection,
    brokers: kafkaBrokers(),
    topic: target.topic,
    fromNow: true,
    onReady: ready,
    log: () => {},
    stats,
    ...extra,
  }, controller.signal);
  await Promise.race([opened, running]);
  return {
    stats,
    stop: () => {
      controller.abort();
      return running;
    },
  };
}

/** One message as read back from a topic. */
export interface ReadMessage {
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** Reads a topic from the beginning until `count` messages arrived (or fails after timeout). */
export async function readTopic(
  topic: string,
  count: number,
  timeoutMs = 30_000,
): Promise<ReadMessage[]> {
  const consumer = testKafka().consumer({ groupId: `reader-${crypto.randomUUID()}` });
  await consumer.connect();
  const messages: ReadMessage[] = [];
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`read ${messages.length}/${count} messages of ${topic} in ${timeoutMs} ms`),
          ),
        timeoutMs,
      );
      consumer.run({
        eachMessage: ({ partition, message }) => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
          messages.push({
            partition,
            offset: message.offset,
            key: message.key,
            value: message.value,
            headers,
          });
          if (messages.length >= count) {
            clearTimeout(timer);
            resolve();
          }
          return Promise.resolve();
        },
      }).catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

/** How many messages the topic holds (sum of its partitions' high watermarks). */
export async function topicSize(topic: string): Promise<number> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Produces messages (keyed messages land on the key's partition, like Debezium's). */
export async function produce(topic: string, messages: Message[]): Promise<void> {
  const producer = testKafka().producer();
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}
