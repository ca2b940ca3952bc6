/**
 * orderstats against the local broker's secured listeners: TLS with a client certificate,
 * and SCRAM (and PLAIN) over TLS — setup, bootstrap and live end to end, and connection
 * failures that exit with the "unreachable" code and say what to check.
 */
import assert from "node:assert/strict";
import { isPortOpen } from "../../devstack/lib/wait.ts";
import { stackPorts } from "../../devstack/config.ts";
import { KAFKA_SASL_USER } from "../../devstack/services/kafka_security.ts";
import {
  type LiveWorker,
  orderstats,
  orderstatsOk,
  scenario,
  stackFlags,
} from "../../devstack/lib/scenario.ts";
import {
  assertConverges,
  LIVE_TEST_OPTIONS,
  relayedScenario,
  startWorker,
} from "../support/live.ts";
import { passwordFile, saslFlags, tlsFlags } from "../support/secure_kafka.ts";
import { applyRandomChanges, rng, seedOrders } from "../../devstack/lib/workload.ts";
import { kafkaSslBrokers } from "../../devstack/lib/env.ts";

// A broker started before these listeners existed lacks them until it is restarted
// (`deno task stack:down kafka --purge && deno task stack:up`). CI starts a fresh stack,
// so there these tests always run.
const listening = await isPortOpen(stackPorts().kafkaSsl);
const ignore = !listening && Deno.env.get("CI") !== "true";
if (ignore) {
  console.error(
    "kafka_security_test: the broker has no SSL listener on " +
      `${kafkaSslBrokers()}; restart the local stack's Kafka to run these tests`,
  );
}
const OPTIONS = { ...LIVE_TEST_OPTIONS, ignore };

/** Setup (creating the topic), bootstrap and live over `kafkaFlags`, converging on `$group`. */
async function endToEnd(prefix: string, kafkaFlags: string[], seed: number): Promise<void> {
  const random = rng(seed);
  await using scene = await relayedScenario(prefix, 2, kafkaFlags);
  const { s, orders } = scene;
  let worker: LiveWorker | undefined;
  try {
    // Small on purpose: the point is the connection; live_test.ts covers the workload.
    await orders.insertMany(seedOrders(100, 10, random));
    await orderstatsOk(["--mode=bootstrap", ...stackFlags(s), "--bad-records-file=/dev/null"]);
    worker = startWorker(s, kafkaFlags);
    const stats = await applyRandomChanges(orders, 40, { idSpace: 120, customers: 10, random });
    for (const [kind, n] of Object.entries(stats)) assert.ok(n > 0, `workload made no ${kind}`);
    await assertConverges(s, orders);
    const { code } = await worker.stop("SIGTERM");
    worker = undefined;
    assert.equal(code, 0);
  } finally {
    await worker?.stop("SIGKILL");
  }
}

Deno.test({
  name: "setup, bootstrap and live over TLS with a client certificate keep totals equal to $group",
  ...OPTIONS,
  fn: () => endToEnd("tls", tlsFlags(), 11),
});

Deno.test({
  name: "setup, bootstrap and live over SASL_SSL with SCRAM-SHA-512 keep totals equal to $group",
  ...OPTIONS,
  fn: async () => {
    await using password = await passwordFile(KAFKA_SASL_USER.password);
    await endToEnd("scram", saslFlags("SCRAM-SHA-512", password.path), 12);
  },
});

Deno.test({
  name: "SCRAM-SHA-256 and PLAIN over TLS authenticate (setup creates the topic through them)",
  ...OPTIONS,
  fn: async () => {
    await using password = await passwordFile(KAFKA_SASL_USER.password);
    for (const mechanism of ["SCRAM-SHA-256", "PLAIN"]) {
      const s = scenario(mechanism.toLowerCase());
      const run = await orderstatsOk([
        "--mode=setup",
        ...stackFlags(s),
        ...saslFlags(mechanism, password.path),
        "--create-topic",
        "--topic-partitions=1",
      ]);
      assert.match(run.stderr, /topic created/, mechanism);
    }
  },
});

Deno.test({
  name: "a wrong SCRAM password or a failed TLS handshake exits 5, saying what to check",
  ...OPTIONS,
  fn: async () => {
    const wrong = "not-the-Password-42";
    await using badPassword = await passwordFile(wrong);
    const tlsHint = /--kafka-ssl-ca-location \(KAFKA_SSL_CA_LOCATION\)/;
    const cases: [string, string[], RegExp[]][] = [
      [
        "live, wrong SCRAM password",
        ["--mode=live", ...saslFlags("SCRAM-SHA-512", badPassword.path)],
        [/invalid credentials/, /check KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/],
      ],
      [
        "setup, wrong SCRAM password",
        ["--mode=setup", "--create-topic", ...saslFlags("SCRAM-SHA-256", badPassword.path)],
        [/invalid credentials/, /check KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/],
      ],
      [
        // KafkaJS retries a failed handshake like any connection error (about 10 s).
        "live, server certificate from an unknown CA (no --kafka-ssl-ca-location)",
        ["--mode=live", `--kafka-brokers=${kafkaSslBrokers()}`, "--kafka-security-protocol=SSL"],
        [new RegExp(`Kafka at ${kafkaSslBrokers()}: Connection error`), tlsHint],
      ],
    ];
    for (const [what, flags, messages] of cases) {
      const started = performance.now();
      const run = await orderstats([...stackFlags(scenario("refused")), ...flags]);
      const seconds = (performance.now() - started) / 1000;
      console.log(`${what}: exit ${run.code} in ${seconds.toFixed(1)} s`);
      assert.equal(run.code, 5, `${what}: exit ${run.code}\n${run.stderr}`);
      const failed = run.stderr.split("\n").find((line) => line.includes('"msg":"failed"'));
      for (const message of messages) {
        assert.match(failed ?? "", message, `${what}:\n${run.stderr}`);
      }
      assert.ok(!run.stderr.includes(wrong), "the password was logged");
      assert.ok(seconds < (what.includes("password") ? 5 : 30), `${what}: ${seconds} s`);
    }
  },
});
