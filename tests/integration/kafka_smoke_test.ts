import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { connectOrExplain, kafkaBrokers, uniqueName } from "../../devstack/lib/env.ts";

Deno.test({
  name: "kafka: a fresh topic takes a message and gives it back to a consumer group",
  async fn() {
    const kafka = new Kafka({
      clientId: "orderstats-smoke",
      brokers: kafkaBrokers(),
      logLevel: logLevel.ERROR,
      connectionTimeout: 2_000,
      retry: { retries: 2 },
    });
    const topic = uniqueName("smoke");
    const admin = kafka.admin();
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    const consumer = kafka.consumer({ groupId: uniqueName("smoke-group") });
    try {
      await connectOrExplain("Kafka", kafkaBrokers().join(","), () => admin.connect());
      assert.equal(
        await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true }),
        true,
      );
      assert.ok((await admin.listTopics()).includes(topic));

      await producer.connect();
      const sent = { key: "order-1", value: JSON.stringify({ total: "9223372036854775807" }) };
      await producer.send({ topic, messages: [sent] });

      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const received = await new Promise<{ key?: string; value?: string }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no message within 30 s")), 30_000);
        consumer.run({
          eachMessage: ({ message }) => {
            clearTimeout(timer);
            resolve({ key: message.key?.toString(), value: message.value?.toString() });
            return Promise.resolve();
          },
        }).catch(reject);
      });
      assert.deepEqual(received, sent);
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect();
    }
  },
});
