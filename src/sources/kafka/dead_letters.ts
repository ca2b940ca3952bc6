/**
 * Where messages go that live mode cannot apply: a dead-letter topic (original key and
 * value, headers naming the source and the reason), or, without one, a full log line.
 * Either way they are counted and never change a total.
 *
 * @module
 */
import type { Producer } from "kafkajs";
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

/** Dead letters to a Kafka topic, sent with acks from all replicas. */
export class KafkaDeadLetters implements DeadLetterSink {
  constructor(
    private readonly producer: Producer,
    readonly topic: string,
    readonly compression: Compression = "none",
  ) {}

  async send(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      compression: COMPRESSIONS[this.compression],
      messages: letters.map(({ message, kind, reason }) => ({
        key: message.key && Buffer.from(message.key),
        value: message.value && Buffer.from(message.value),
        headers: {
          "orderstats.source.topic": message.topic,
          "orderstats.source.partition": String(message.partition),
          "orderstats.source.offset": String(message.offset),
          "orderstats.reason": reason,
          "orderstats.reason.kind": kind,
        },
      })),
    });
  }
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
