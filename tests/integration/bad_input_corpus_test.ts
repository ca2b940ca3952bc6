/**
 * The bad-input corpus (tests/fixtures/bad_inputs/corpus.ts) end to end: interleaved with
 * valid orders on one topic, read by one live worker with a dead-letter topic. Each bad
 * message is dead-lettered exactly once with its kind and reason, counted per kind on
 * `/metrics`, the worker stays up in the same process, and the totals are the valid orders'.
 */
import assert from "node:assert/strict";
import { ConfigResourceTypes, type Message } from "kafkajs";
import { scenario } from "../../devstack/lib/scenario.ts";
import {
  produce,
  type ReadMessage,
  readTopic,
  testKafka,
  topicSize,
} from "../../devstack/lib/kafka.ts";
import {
  assertTotals,
  emptyBootstrap,
  LIVE_TEST_OPTIONS,
  prepare,
  rawOrder,
  startWorker,
} from "../support/live.ts";
import {
  BAD_INPUT_CORPUS,
  CORPUS_MAX_RECORD_BYTES,
  type CorpusCase,
} from "../fixtures/bad_inputs/corpus.ts";
import { BAD_RECORD_KINDS } from "../../src/util/errors.ts";

/** A valid raw order before each corpus case, spread over three customers. */
const VALID = BAD_INPUT_CORPUS.map((_, i) => rawOrder(3000 + i, `v${i % 3}`, BigInt(i + 1)));
/** Valid orders written after the corpus: the worker must still apply them. */
const AFTER = Array.from({ length: 10 }, (_, i) => rawOrder(4000 + i, `v${i % 3}`, 1000n));

const DEAD = BAD_INPUT_CORPUS.filter((c) => "deadLetter" in c.expected);

const hex = (bytes: Uint8Array | null) =>
  bytes === null ? "null" : Buffer.from(bytes).toString("hex");

/** Sets a topic's `max.message.bytes`. */
async function setMaxMessageBytes(topic: string, bytes: number): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{
        type: ConfigResourceTypes.TOPIC,
        name: topic,
        configEntries: [{ name: "max.message.bytes", value: String(bytes) }],
      }],
    });
  } finally {
    await admin.disconnect();
  }
}

/** The totals the valid orders and the corpus's valid cases make. */
function expectedTotals(orders: { value: string }[]): Map<string, bigint> {
  const totals = new Map<string, bigint>();
  const add = (customer: string, amount: bigint) =>
    totals.set(customer, (totals.get(customer) ?? 0n) + amount);
  for (const { value } of orders) {
    const match = /"customer_id": "(\w+)", "amount": (\d+)/.exec(value)!;
    add(match[1], BigInt(match[2]));
  }
  for (const { expected } of BAD_INPUT_CORPUS) {
    if ("applied" in expected) add(expected.applied.customer, expected.applied.amount);
  }
  return totals;
}

function toMessage({ key, value }: CorpusCase): Message {
  return { key: key && Buffer.from(key), value: value && Buffer.from(value) };
}

/** Each dead letter is one corpus case's message, with headers naming where it was and why. */
function assertDeadLetters(letters: ReadMessage[], source: ReadMessage[], topic: string): void {
  const byValue = new Map(DEAD.map((c) => [hex(c.value), c]));
  assert.equal(byValue.size, DEAD.length, "dead-letter cases have distinct values");
  const seen = new Set<string>();
  for (const letter of letters) {
    const entry = byValue.get(hex(letter.value));
    assert.ok(entry, `unexpected dead letter ${letter.value?.toString().slice(0, 80)}`);
    assert.ok(!seen.has(entry.name), `${entry.name} dead-lettered twice`);
    seen.add(entry.name);
    const expected = entry.expected as { deadLetter: string; reason: RegExp };
    const headers = letter.headers;
    assert.equal(headers["orderstats.reason.kind"], expected.deadLetter, entry.name);
    assert.match(headers["orderstats.reason"], expected.reason, entry.name);
    assert.equal(headers["orderstats.source.topic"], topic);
    assert.equal(hex(letter.key), hex(entry.key), `${entry.name}: key kept`);
    const original = source.find((m) =>
      String(m.partition) === headers["orderstats.source.partition"] &&
      m.offset === headers["orderstats.source.offset"]
    );
    assert.equal(hex(original?.value ?? null), hex(entry.value), `${entry.name}: source offset`);
  }
  assert.equal(seen.size, DEAD.length);
}

Deno.test({
  name: "live dead-letters each bad-input corpus case once with its kind, keeps running, " +
    "and keeps the valid orders' totals",
  ...LIVE_TEST_OPTIONS,
  fn: async () => {
    const started = performance.now();
    const s = scenario("corpus");
    const dlq = `${s.topic}.dlq`;
    await prepare(s, 2, [`--dlq-topic=${dlq}`]);
    await emptyBootstrap(s);
    const worker = startWorker(s, [
      `--dlq-topic=${dlq}`,
      `--max-record-bytes=${CORPUS_MAX_RECORD_BYTES}`,
    ], { captureStderr: true });
    try {
      await produce(s.topic, BAD_INPUT_CORPUS.flatMap((c, i) => [VALID[i], toMessage(c)]));
      await assertTotals(s, () => Promise.resolve(expectedTotals(VALID)));

      const source = await readTopic(s.topic, VALID.length + BAD_INPUT_CORPUS.length);
      const letters = await readTopic(dlq, DEAD.length);
      assertDeadLetters(letters, source, s.topic);
      assert.equal(await topicSize(dlq), DEAD.length, "no dead letter written twice");

      const metrics = await worker.metrics();
      for (const kind of BAD_RECORD_KINDS) {
        const want = DEAD.filter((c) =>
          "deadLetter" in c.expected && c.expected.deadLetter === kind
        );
        assert.equal(
          metrics.get(`orderstats_dead_lettered_total{reason="${kind}"}`),
          want.length,
          kind,
        );
      }
      const skips = BAD_INPUT_CORPUS.filter((c) => "skip" in c.expected).length;
      assert.equal(metrics.get('orderstats_events_total{outcome="tombstone"}'), skips);

      // Same process, still healthy, still applying.
      const exited = await Promise.race([
        worker.process.status.then(() => true),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), 100)),
      ]);
      assert.equal(exited, false, "the worker exited");
      for (const path of ["/healthz", "/readyz"]) {
        const response = await fetch(`http://127.0.0.1:${worker.port}${path}`);
        await response.body?.cancel();
        assert.equal(response.status, 200, path);
      }
      await produce(s.topic, AFTER);
      await assertTotals(s, () => Promise.resolve(expectedTotals([...VALID, ...AFTER])));
      console.log(JSON.stringify({
        cases: BAD_INPUT_CORPUS.length,
        deadLettered: DEAD.length,
        seconds: Math.round((performance.now() - started) / 100) / 10,
      }));
    } finally {
      await worker.stop("SIGTERM");
    }
  },
});

Deno.test({
  name: "large bad messages are dead-lettered without blocking the worker on the DLQ's size limit",
  ...LIVE_TEST_OPTIONS,
  fn: async () => {
    const s = scenario("dlqsize");
    const dlq = `${s.topic}.dlq`;
    await prepare(s, 1, [`--dlq-topic=${dlq}`]);
    await emptyBootstrap(s);
    // The CDC topic takes messages up to 3 MB; the DLQ topic keeps Kafka's default (1 MiB).
    await setMaxMessageBytes(s.topic, 3_000_000);
    // Each fits the DLQ alone, two do not, and one Kafka batch holds them all.
    const large = [1, 2, 3].map((n) => ({ key: `big-${n}`, value: `${n}${"x".repeat(600_000)}` }));
    // Past --max-record-bytes (1 MiB) and past what the DLQ topic takes.
    const huge = { key: "huge", value: "y".repeat(1_500_000) };
    for (const message of [...large, huge]) await produce(s.topic, [message]);
    await produce(s.topic, [rawOrder(1, "a", 5n)]);
    const worker = startWorker(s, [`--dlq-topic=${dlq}`], { captureStderr: true });
    try {
      await assertTotals(s, () => Promise.resolve(new Map([["a", 5n]])));
      const letters = await readTopic(dlq, large.length + 1);
      const byKey = new Map(letters.map((l) => [l.key?.toString(), l]));
      for (const { key, value } of large) {
        assert.equal(byKey.get(key)?.value?.toString(), value, key);
        assert.equal(byKey.get(key)?.headers["orderstats.reason.kind"], "not_json");
      }
      const dropped = byKey.get("huge")!;
      assert.equal(dropped.value, null);
      assert.equal(dropped.headers["orderstats.reason.kind"], "too_large");
      assert.equal(dropped.headers["orderstats.value.dropped"], String(huge.value.length));
      assert.equal(await topicSize(dlq), large.length + 1);
      const metrics = await worker.metrics();
      assert.equal(metrics.get('orderstats_dead_lettered_total{reason="not_json"}'), 3);
      assert.equal(metrics.get('orderstats_dead_lettered_total{reason="too_large"}'), 1);
    } finally {
      await worker.stop("SIGTERM");
    }
  },
});
