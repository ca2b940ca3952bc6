/**
 * Where messages go that live mode cannot apply: a dead-letter topic (original key and
 * value, headers naming the source and the reason; the value left out only when the topic
 * refuses it as too large), or, without one, a full log line.
 * Either way they are counted and never change a total.
 *
 * @module
 */
import type { Message, Producer } from "kafkajs";
import { type Compression, COMPRESSIONS } from "./codecs.ts";
import type { CdcMessage } from "../cdc/mod.ts";
import { log } from "../../util/log.ts";
import type { BadRecordKind } from "../../util/errors.ts";

/** A message that could not be applied, and why. */
export interface DeadLetter {
  message: CdcMessage;
  /** Why, as a stable word (the `reason` label of `orderstats_dead_lettered_total`). */
  kind: BadRecordKind;
  /** Why, in full. */
  reason: string;
}

/** Receives messages that could not be applied. */
export interface DeadLetterSink {
  /**
   * Makes one batch's dead letters durable (before its offsets are committed). Nothing is
   * queued between calls, so a batch that fails before sending leaves nothing behind.
   */
  send(letters: readonly DeadLetter[]): Promise<void>;
}

/**
 * Bytes of keys and values per produce request. Kafka refuses a record batch over the topic's
 * `max.message.bytes` (1 MiB by default), and a producer puts a request's messages for one
 * partition in one batch: a few large bad messages sent together would be refused on every
 * retry of their Kafka batch, and stop the worker for good.
 */
const REQUEST_BYTES = 512 * 1024;

/**
 * Dead letters to a Kafka topic, sent with acks from all replicas, in requests of at most
 * {@link REQUEST_BYTES} (one letter alone when it is larger). A letter the topic still refuses
 * as too large is sent without its value, with `orderstats.value.dropped` giving its size: its
 * source offset says where to read it.
 */
export class KafkaDeadLetters implements DeadLetterSink {
  constructor(
    private readonly producer: Producer,
    readonly topic: string,
    readonly compression: Compression = "none",
  ) {}

  async send(letters: readonly DeadLetter[]): Promise<void> {
    for (const request of requests(letters)) {
      try {
        await this.#produce(request.map((letter) => record(letter)));
      } catch (error) {
        if (!isMessageTooLarge(error)) throw error;
        for (const letter of request) await this.#sendAlone(letter);
      }
    }
  }

  async #sendAlone(letter: DeadLetter): Promise<void> {
    try {
      await this.#produce([record(letter)]);
    } catch (error) {
      if (!isMessageTooLarge(error)) throw error;
      const { topic, partition, offset } = letter.message;
      const bytes = letter.message.value?.length ?? 0;
      log("warn", "dead letter too large for its topic; sent without its value", {
        topic,
        partition,
        offset: String(offset),
        bytes,
        dlq: this.topic,
      });
      await this.#produce([record(letter, bytes)]);
    }
  }

  async #produce(messages: Message[]): Promise<void> {
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      compression: COMPRESSIONS[this.compression],
      messages,
    });
  }
}

/** Groups letters into requests of at most {@link REQUEST_BYTES}, a larger letter alone. */
function requests(letters: readonly DeadLetter[]): DeadLetter[][] {
  const groups: DeadLetter[][] = [];
  let bytes = Infinity;
  for (const letter of letters) {
    const size = (letter.message.key?.length ?? 0) + (letter.message.value?.length ?? 0);
    if (bytes + size > REQUEST_BYTES) {
      groups.push([]);
      bytes = 0;
    }
    groups.at(-1)!.push(letter);
    bytes += size;
  }
  return groups;
}

/** The dead-letter record of `letter`; with `droppedBytes`, without its value. */
function record({ message, kind, reason }: DeadLetter, droppedBytes?: number): Message {
  const headers: Record<string, string> = {
    "orderstats.source.topic": message.topic,
    "orderstats.source.partition": String(message.partition),
    "orderstats.source.offset": String(message.offset),
    "orderstats.reason": reason,
    "orderstats.reason.kind": kind,
  };
  if (droppedBytes !== undefined) headers["orderstats.value.dropped"] = String(droppedBytes);
  return {
    key: message.key && Buffer.from(message.key),
    value: droppedBytes === undefined && message.value ? Buffer.from(message.value) : null,
    headers,
  };
}

/** Whether Kafka refused a request as larger than the topic's `max.message.bytes`. */
function isMessageTooLarge(error: unknown): boolean {
  for (let e = error; e instanceof Error; e = e.cause) {
    if ((e as { type?: string }).type === "MESSAGE_TOO_LARGE") return true;
  }
  return false;
}

/** Dead letters written in full to the log (no DLQ topic configured). */
export class LoggedDeadLetters implements DeadLetterSink {
  readonly #decoder = new TextDecoder();

  send(letters: readonly DeadLetter[]): Promise<void> {
    for (const { message, kind, reason } of letters) {
      log("error", "dead letter", {
        topic: message.topic,
        partition: message.partition,
        offset: String(message.offset),
        kind,
        reason,
        key: message.key && this.#decoder.decode(message.key),
        value: message.value && this.#decoder.decode(message.value),
      });
    }
    return Promise.resolve();
  }
}
