/**
 * Every record compression Kafka has, on the CDC topic and the dead-letter topic: batches
 * written by Kafka's own Java producer with gzip, snappy, lz4 or zstd are applied exactly,
 * and dead letters written with the same codec read back.
 */
import assert from "node:assert/strict";
import { CompressionCodecs } from "kafkajs";
import { COMPRESSIONS, registerCodecs } from "../../src/sources/kafka/codecs.ts";
import { type LiveWorker, scenario } from "../../devstack/lib/scenario.ts";
import {
  assertTotals,
  emptyBootstrap,
  LIVE_TEST_OPTIONS,
  prepare,
  rawOrder,
  startWorker,
} from "../support/live.ts";
import { readTopic } from "../../devstack/lib/kafka.ts";
import { produceWithJava } from "../support/java_producer.ts";
import { rng } from "../../devstack/lib/workload.ts";

type Codec = "gzip" | "snappy" | "lz4" | "zstd";

/** Counts batches this process decompresses with `codec` until disposed. */
function countDecompressions(codec: Codec): Disposable & { batches: number } {
  registerCodecs();
  const type = COMPRESSIONS[codec];
  const original = CompressionCodecs[type];
  const counter = {
    batches: 0,
    [Symbol.dispose]: () => void (CompressionCodecs[type] = original),
  };
  CompressionCodecs[type] = () => {
    const codec = original();
    return {
      compress: codec.compress,
      decompress: (buffer: Buffer) => {
        counter.batches++;
        return codec.decompress(buffer);
      },
    };
  };
  return counter;
}

/** Raw orders with repeated ids (the last write wins), int64 amounts beyond 2^53 and negatives. */
function workload(seed: number) {
  const random = rng(seed);
  const messages: { key: string; value: string }[] = [];
  const last = new Map<number, { customer: string; amount: bigint }>();
  for (let i = 0; i < 600; i++) {
    const id = Math.floor(random() * 200);
    const customer = `c${Math.floor(random() * 9)}`;
    const amount = (BigInt(Math.floor(random() * 2 ** 40)) << 20n) - 2n ** 58n;
    messages.push(rawOrder(id, customer, amount));
    last.set(id, { customer, amount });
  }
  const expected = new Map<string, bigint>();
  for (const { customer, amount } of last.values()) {
    expected.set(customer, (expected.get(customer) ?? 0n) + amount);
  }
  return { messages, expected };
}

const BAD = [
  { key: "900", value: '{"_id": 900, "customer_id": "c1", "amount": 1.5}' },
  { key: "901", value: "not json" },
];

async function appliedExactly(codec: Codec, seed: number): Promise<void> {
  using decompressed = countDecompressions(codec);
  const s = scenario(`codec_${codec}`);
  const dlq = `${s.topic}.dlq`;
  await prepare(s, 2, [`--dlq-topic=${dlq}`]);
  await emptyBootstrap(s, ["--cdc-format=raw"]); // records where a raw topic's live start is
  const { messages, expected } = workload(seed);
  await produceWithJava(s.topic, codec, [...messages, ...BAD]);
  let worker: LiveWorker | undefined;
  try {
    worker = startWorker(s, [
      "--cdc-format=raw",
      `--dlq-topic=${dlq}`,
      `--dlq-compression=${codec}`,
    ]);
    await assertTotals(s, () => Promise.resolve(expected));
    const letters = await readTopic(dlq, BAD.length);
    assert.deepEqual(
      letters.map((m) => m.value?.toString()).sort(),
      BAD.map((m) => m.value).sort(),
    );
    assert.ok(decompressed.batches > 0, `no ${codec} batch in the dead-letter topic`);
    // The CDC topic itself holds codec batches (the Java producer really compressed).
    const before = decompressed.batches;
    await readTopic(s.topic, messages.length + BAD.length);
    assert.ok(decompressed.batches > before, `no ${codec} batch in the CDC topic`);
  } finally {
    await worker?.stop("SIGTERM");
  }
}

for (const [i, codec] of (["gzip", "snappy", "lz4", "zstd"] as const).entries()) {
  Deno.test({
    name:
      `${codec} batches from Kafka's Java producer are applied exactly; a ${codec} DLQ reads back`,
    ...LIVE_TEST_OPTIONS,
    fn: () => appliedExactly(codec, 100 + i),
  });
}
