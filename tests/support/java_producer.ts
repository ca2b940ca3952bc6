/**
 * Writes messages with Kafka's own Java producer (the broker's jars in .cache/kafka/libs),
 * so tests read record batches exactly as JVM producers such as Kafka Connect write them,
 * compressed with any codec Kafka has.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CACHE_DIR } from "../../devstack/lib/paths.ts";
import { kafkaBrokers } from "../../devstack/lib/env.ts";

const SOURCE = fileURLToPath(new URL("./java/CompressedProducer.java", import.meta.url));
// A short-lived JVM: skip the optimising compiler, use the smallest collector.
const JVM = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto"];

/** Produces `messages` to `topic` with `compression.type=<codec>`, acks from all replicas. */
export async function produceWithJava(
  topic: string,
  codec: "none" | "gzip" | "snappy" | "lz4" | "zstd",
  messages: { key: string; value: string }[],
): Promise<void> {
  const child = new Deno.Command("java", {
    args: [
      ...JVM,
      "-cp",
      `${join(CACHE_DIR, "kafka/libs")}/*`,
      SOURCE,
      kafkaBrokers().join(","),
      topic,
      codec,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(
    new TextEncoder().encode(messages.map((m) => `${m.key}\t${m.value}\n`).join("")),
  );
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const sent = new TextDecoder().decode(stdout).trim();
  if (code !== 0 || sent !== String(messages.length)) {
    throw new Error(
      `Java producer (${codec}) exited ${code} after ${sent || 0}/${messages.length} messages:\n` +
        new TextDecoder().decode(stderr),
    );
  }
}
