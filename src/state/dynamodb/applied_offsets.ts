/**
 * The optional dedup table (`--ddb-dedup-table`): per consumer group and partition, the
 * highest Kafka offset whose effects are durable in DynamoDB. Live mode skips messages
 * at or below it without reading the ledger, so a replay after a failed offset commit,
 * a rebalance, or lost/expired group offsets (the group restarts from the topic's
 * beginning) costs no DynamoDB reads or writes. Correctness never depends on it: the
 * ledger versions already make replays harmless.
 *
 * @module
 */
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import { isTransientDynamoError } from "./retriable.ts";
import { retry } from "../../util/retry.ts";

/** Reads and advances applied-offset watermarks in one table. */
export class AppliedOffsets {
  readonly #cache = new Map<string, bigint>();

  constructor(
    private readonly client: DynamoDBClient,
    readonly table: string,
    private readonly group: string,
  ) {}

  #pk(topic: string, partition: number): string {
    return `O#${this.group}#${topic}#${partition}`;
  }

  /** The highest applied offset of a partition, or -1 when none is recorded. */
  async applied(topic: string, partition: number): Promise<bigint> {
    const pk = this.#pk(topic, partition);
    const cached = this.#cache.get(pk);
    if (cached !== undefined) return cached;
    const out = await retry(
      () =>
        this.client.send(
          new GetItemCommand({
            TableName: this.table,
            Key: { pk: { S: pk } },
            ConsistentRead: true,
          }),
        ),
      { isRetriable: isTransientDynamoError },
    );
    const offset = out.Item?.offset?.N === undefined ? -1n : BigInt(out.Item.offset.N);
    this.#cache.set(pk, offset);
    return offset;
  }

  /** Records that everything up to `offset` is durable; never moves the watermark back. */
  async advance(topic: string, partition: number, offset: bigint): Promise<void> {
    const pk = this.#pk(topic, partition);
    try {
      await retry(
        () =>
          this.client.send(
            new PutItemCommand({
              TableName: this.table,
              Item: {
                pk: { S: pk },
                group: { S: this.group },
                topic: { S: topic },
                partition: { N: String(partition) },
                offset: { N: offset.toString() },
                updated_at: { S: new Date().toISOString() },
              },
              ConditionExpression: "attribute_not_exists(pk) OR #offset < :offset",
              ExpressionAttributeNames: { "#offset": "offset" },
              ExpressionAttributeValues: { ":offset": { N: offset.toString() } },
            }),
          ),
        { isRetriable: isTransientDynamoError },
      );
      this.#cache.set(pk, offset);
    } catch (error) {
      // Another worker already recorded a higher watermark: forget ours and re-read later.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      this.#cache.delete(pk);
    }
  }
}
