/**
 * Where messages go that live mode cannot apply: a dead-letter topic (original key and
 * value, headers naming the source and the reason), or, without one, a full log line.
 * Either way they are counted and never change a total.
 *
 * @module
 */
import type { Producer } from "kafkajs";
import type { CdcMessage } from "../cdc/mod.ts";
import { log } from "../../util/log.ts";

/** Receives messages that could not be applied. */
export interface DeadLetterSink {
  /** Queues one message with the reason. */
  add(message: CdcMessage, reason: string): void;
  /** Makes everything queued durable (before offsets are committed). */
  flush(): Promise<void>;
}

/** Dead letters to a Kafka topic, sent with acks from all replicas. */
export class KafkaDeadLetters implements DeadLetterSink {
  #pending: { key: Buffer | null; value: Buffer | null; headers: Record<string, string> }[] = [];

  constructor(private readonly producer: Producer, readonly topic: string) {}

  add(message: CdcMessage, reason: string): void {
    this.#pending.push({
      key: message.key && Buffer.from(message.key),
      value: message.value && Buffer.from(message.value),
      headers: {
        "orderstats.source.topic": message.topic,
        "orderstats.source.partition": String(message.partition),
        "orderstats.source.offset": String(message.offset),
        "orderstats.reason": reason,
      },
    });
  }

  async flush(): Promise<void> {
    if (this.#pending.length === 0) return;
    const messages = this.#pending;
    await this.producer.send({ topic: this.topic, acks: -1, messages });
    this.#pending = [];
  }
}

/** Dead letters written in full to the log (no DLQ topic configured). */
export class LoggedDeadLetters implements DeadLetterSink {
  readonly #decoder = new TextDecoder();

  add(message: CdcMessage, reason: string): void {
    log("error", "dead letter", {
      topic: message.topic,
      partition: message.partition,
      offset: String(message.offset),
      reason,
      key: message.key && this.#decoder.decode(message.key),
      value: message.value && this.#decoder.decode(message.value),
    });
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }
}
