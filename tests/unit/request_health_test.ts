import assert from "node:assert/strict";
import { RequestHealth, STALLED_MS } from "../../src/state/dynamodb/request_health.ts";

const refused = () => Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
const throttled = () => Object.assign(new Error("slow down"), { name: "ThrottlingException" });

Deno.test("request health: an outage error makes DynamoDB not answering until a success", async () => {
  const health = new RequestHealth(() => 0);
  assert.equal(health.answering(), true);
  await assert.rejects(health.follow(() => Promise.reject(refused())));
  assert.equal(health.answering(), false);
  await health.follow(() => Promise.resolve("ok"));
  assert.equal(health.answering(), true);
});

Deno.test("request health: throttling and refused conditions are not an outage", async () => {
  const health = new RequestHealth(() => 0);
  await assert.rejects(health.follow(() => Promise.reject(throttled())));
  assert.equal(health.answering(), true);
  const failed = Object.assign(new Error("condition"), { name: "ConditionalCheckFailedException" });
  await assert.rejects(health.follow(() => Promise.reject(failed)));
  assert.equal(health.answering(), true);
});

Deno.test("request health: a request pending longer than STALLED_MS means not answering", async () => {
  let now = 0;
  const health = new RequestHealth(() => now);
  let answer!: () => void;
  const hung = health.follow(() => new Promise<void>((resolve) => answer = resolve));
  now = STALLED_MS - 1;
  assert.equal(health.answering(), true);
  now = STALLED_MS + 1;
  assert.equal(health.answering(), false);
  answer();
  await hung;
  assert.equal(health.answering(), true);
});
