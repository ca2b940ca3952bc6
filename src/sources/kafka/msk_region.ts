/**
 * The AWS region of an Amazon MSK cluster, read from its broker host names (kept apart from
 * the signer so configuration parsing does not load the AWS SDK).
 *
 * @module
 */

/**
 * The region in an MSK broker host name (`b-1.name.abc123.c2.kafka.eu-west-1.amazonaws.com`,
 * `boot-abc.c1.kafka-serverless.us-east-2.amazonaws.com`), or `undefined`.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(mskRegion("b-1.orders.x1y2z3.c2.kafka.eu-west-1.amazonaws.com:9098"), "eu-west-1");
 * equal(mskRegion("localhost:9092"), undefined);
 * ```
 */
export function mskRegion(broker: string): string | undefined {
  return /\.kafka(?:-serverless)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?(?::\d+)?$/.exec(broker)
    ?.[1];
}
