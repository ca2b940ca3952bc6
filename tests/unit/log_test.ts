import assert from "node:assert/strict";
import { errorFields, setLogLevel } from "../../src/util/log.ts";
import { kafkaLevel } from "../../src/sources/kafka/client.ts";
import { logLevel } from "kafkajs";
import { VERSION } from "../../src/util/build.ts";

const failure = () =>
  new Error("live worker failed", {
    cause: new AggregateError([new Error("broker a down")], "all brokers down", {
      cause: new TypeError("ECONNREFUSED"),
    }),
  });

Deno.test("errorFields() carries the whole cause chain, with stacks only at debug", () => {
  setLogLevel("info");
  const fields = errorFields(failure());
  assert.deepEqual(fields, {
    error: "live worker failed",
    errorName: "Error",
    cause: {
      error: "all brokers down",
      errorName: "AggregateError",
      errors: [{ error: "broker a down", errorName: "Error" }],
      cause: { error: "ECONNREFUSED", errorName: "TypeError" },
    },
  });
  setLogLevel("debug");
  try {
    const debug = errorFields(failure());
    assert.match(String(debug.stack), /live worker failed\n\s+at /);
    assert.match(String((debug.cause as Record<string, unknown>).stack), /all brokers down/);
  } finally {
    setLogLevel("info");
  }
});

Deno.test("kafkaLevel() keeps rebalances at info and KafkaJS errors at warn", () => {
  assert.equal(kafkaLevel(logLevel.WARN, "The group is rebalancing, re-joining"), "info");
  assert.equal(
    kafkaLevel(
      logLevel.ERROR,
      "Response Heartbeat(key: 12, version: 3)",
      "The group is rebalancing, so a rejoin is needed",
    ),
    "info",
  );
  assert.equal(kafkaLevel(logLevel.ERROR, "Crash: KafkaJSConnectionError"), "warn");
  assert.equal(kafkaLevel(logLevel.INFO, "Consumer has joined the group"), "info");
  assert.equal(kafkaLevel(logLevel.DEBUG, "Request Fetch"), "debug");
});

Deno.test("VERSION is deno.json's version", async () => {
  const manifest = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
  assert.equal(VERSION, manifest.version);
});
