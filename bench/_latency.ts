/**
 * The live benchmark's latency phase: events produced at a fixed rate, each timed from the
 * start of its produce call until the consumer group's committed offset passes it.
 *
 * @module
 */
import { type Message, Partitioners } from "kafkajs";
import { testKafka } from "../devstack/lib/kafka.ts";

/** Options for {@link measureLatency}. */
export interface LatencyOptions {
  topic: string;
  /** The consumer group whose committed offsets tell what is done. */
  group: string;
  partitions: number;
  /** Events per second to produce. */
  rate: number;
  seconds: number;
  /** The next event (its key and value); its key picks the partition, as for the backlog. */
  next: () => Message;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Produces `rate × seconds` events in steps of ~5 ms, each on the partition its key picks
 * (the producer's default partitioner, so an order's changes stay on one partition), and
 * returns each one's latency in ms. An event is done when the group's committed offset
 * passes it, which orderstats does only after the batch's DynamoDB transactions succeeded;
 * so latency = Kafka ack + fetch + apply + commit, read by polling the offsets every 20 ms.
 */
export async function measureLatency(options: LatencyOptions): Promise<number[]> {
  const { topic, group, partitions, rate } = options;
  const kafka = testKafka();
  const [producer, admin] = [kafka.producer(), kafka.admin()];
  await Promise.all([producer.connect(), admin.connect()]);
  const queues = Array.from({ length: partitions }, () => [] as { offset: bigint; at: number }[]);
  const latencies: number[] = [];
  const partitionOf = keyPartitioner(topic, partitions);
  const total = Math.round(rate * options.seconds);
  let producing = true;
  let deadline = Infinity;
  const watch = (async () => {
    while (producing || queues.some((q) => q.length > 0)) {
      if (performance.now() > deadline) throw new Error("latency events not committed in 120 s");
      const [{ partitions: committed }] = await admin.fetchOffsets({
        groupId: group,
        topics: [topic],
      });
      const now = performance.now();
      for (const { partition, offset } of committed) {
        const queue = queues[partition];
        while (queue.length > 0 && queue[0].offset < BigInt(offset)) {
          latencies.push(now - queue.shift()!.at);
        }
      }
      await sleep(20);
    }
  })();
  try {
    const start = performance.now();
    for (let sent = 0; sent < total; await sleep(5)) {
      const due = Math.min(total, Math.floor((performance.now() - start) / 1000 * rate));
      if (due === sent) continue;
      const at = performance.now();
      const messages: Message[] = [];
      for (; sent < due; sent++) {
        const message = options.next();
        messages.push({ ...message, partition: partitionOf(message) });
      }
      const meta = await producer.send({ topic, acks: -1, messages });
      const next = new Map(meta.map((m) => [m.partition, BigInt(m.baseOffset!)]));
      for (const { partition } of messages) {
        const offset = next.get(partition!)!;
        next.set(partition!, offset + 1n);
        queues[partition!].push({ offset, at });
      }
    }
    producing = false;
    deadline = performance.now() + 120_000;
    await watch;
    return latencies;
  } finally {
    producing = false;
    queues.forEach((q) => q.length = 0);
    await watch.catch(() => {});
    await Promise.all([producer.disconnect(), admin.disconnect()]);
  }
}

/** The partition kafkajs's default partitioner gives a message of `topic`. */
function keyPartitioner(topic: string, partitions: number): (message: Message) => number {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));
  return (message) => partitioner({ topic, partitionMetadata, message });
}
