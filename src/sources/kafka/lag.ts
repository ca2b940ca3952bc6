/**
 * A consumer group's lag per partition, read from the brokers: the partition's high
 * watermark minus the group's committed offset (or minus the earliest offset before the
 * group's first commit, since live mode starts from the beginning).
 *
 * @module
 */
import type { Admin } from "kafkajs";

/** Lag of `groupId` on every partition of `topic`. */
export async function groupLag(
  admin: Admin,
  groupId: string,
  topic: string,
): Promise<Map<number, bigint>> {
  const [ends, [committed]] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  const done = new Map(committed.partitions.map((p) => [p.partition, BigInt(p.offset)]));
  const lag = new Map<number, bigint>();
  for (const { partition, high, low } of ends) {
    const from = done.get(partition) ?? -1n;
    lag.set(partition, BigInt(high) - (from < 0n ? BigInt(low) : from));
  }
  return lag;
}
