/**
 * Kafka offsets that mark where a handoff stands in a topic.
 *
 * @module
 */
import type { Admin } from "kafkajs";
import { kafkaClient, type KafkaConnection } from "./client.ts";
import { connectKafka } from "./connect.ts";

async function withAdmin<T>(
  connection: KafkaConnection,
  use: (admin: Admin) => Promise<T>,
): Promise<T> {
  const admin = kafkaClient(connection).admin();
  await connectKafka(connection, () => admin.connect());
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}

/**
 * The offset the next message of each partition of `topic` will get. Read before the
 * bootstrap takes its resume token, every message below it was produced, hence written,
 * before the handoff time. A topic that does not exist yet has no partitions: empty map.
 */
export function topicEndOffsets(
  connection: KafkaConnection,
  topic: string,
): Promise<Map<number, bigint>> {
  return withAdmin(connection, async (admin) => {
    if (!(await admin.listTopics()).includes(topic)) return new Map();
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((p) => [p.partition, BigInt(p.high)]));
  });
}

/** Whether `groupId` has committed no offset on any partition of `topic` (a new group). */
export function hasNoCommittedOffsets(
  connection: KafkaConnection,
  groupId: string,
  topic: string,
): Promise<boolean> {
  return withAdmin(connection, async (admin) => {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (committed?.partitions ?? []).every((p) => BigInt(p.offset) < 0n);
  });
}
