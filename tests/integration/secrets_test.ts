/**
 * No secret reaches any output: every mode runs configured with secrets (a MongoDB URI's
 * password and secret parameters, AWS keys, a SASL password, a secret-named flag), succeeding
 * and failing, at
 * `--log-level=debug` (stack traces included), and all of stdout and stderr is searched.
 * Every secret here contains "s3cr3t", so one search finds any of them.
 */
import assert from "node:assert/strict";
import { orderstats, scenario, stackFlags } from "../../devstack/lib/scenario.ts";
import { closedPort, mongoUri } from "../../devstack/lib/env.ts";

const AWS_SECRETS = {
  AWS_ACCESS_KEY_ID: "AKIAS3CR3TS3CR3T",
  AWS_SECRET_ACCESS_KEY: "aws-s3cr3t-access-key",
  AWS_SESSION_TOKEN: "aws-s3cr3t-session-token",
  AWS_REGION: "us-east-1",
};

Deno.test("no mode writes a secret to stdout or stderr, failing or not", async () => {
  const s = scenario("secrets");
  const base = [...stackFlags(s), "--log-level=debug", "--bad-records-file=/dev/null"];
  const closed = closedPort();
  const secretUri = (host: string) =>
    `mongodb://orders:mongo-s3cr3t-pw@${host}/?replicaSet=rs0&directConnection=true` +
    "&serverSelectionTimeoutMS=1500&tlsCertificateKeyFilePassword=tls-s3cr3t-pw";
  const runs: [string, string[], Record<string, string>, number][] = [
    ["setup with AWS keys", ["--mode=setup", "--create-topic"], AWS_SECRETS, 0],
    ["totals with AWS keys", ["--mode=totals"], AWS_SECRETS, 0],
    ["live without a handoff", ["--mode=live", "--no-wait-for-handoff"], AWS_SECRETS, 4],
    [
      "bootstrap, MongoDB unreachable",
      [
        "--mode=bootstrap",
        `--mongo-uri=${secretUri(`127.0.0.1:${closed}`)}`,
      ],
      AWS_SECRETS,
      5,
    ],
    ["bootstrap with a password in the URI", ["--mode=bootstrap"], {
      ...AWS_SECRETS,
      MONGO_URI: secretUri(new URL(mongoUri()).host),
    }, 0],
    [
      "bootstrap, URI the driver rejects",
      [
        "--mode=bootstrap",
        "--mongo-uri=mongodb://orders:mongo-s3cr3t-pw@h1/?proxyPassword=proxy-s3cr3t",
      ],
      {},
      2,
    ],
    [
      "a bad endpoint echoed in an error",
      [
        "--mode=totals",
        "--ddb-endpoint=ftp://user:endpoint-s3cr3t@localhost:8000",
      ],
      {},
      2,
    ],
    ["setup, SASL refused", ["--mode=setup", "--create-topic"], {
      KAFKA_SECURITY_PROTOCOL: "SASL_SSL",
      KAFKA_SASL_MECHANISM: "SCRAM-SHA-512",
      KAFKA_SASL_USERNAME: "orderstats",
      KAFKA_SASL_PASSWORD: "sasl-s3cr3t-pw",
    }, 5],
    ["a secret in an unknown flag", ["--mode=live", "--sasl-password-typo=sasl-s3cr3t"], {}, 2],
  ];
  for (const [name, args, env, code] of runs) {
    // Later flags win: the case's own flags override the scenario's.
    const run = await orderstats([...base, ...args], env);
    assert.equal(run.code, code, `${name}: ${run.stderr}`);
    const output = run.stdout + run.stderr;
    const at = output.toLowerCase().indexOf("s3cr3t");
    assert.equal(at, -1, `${name} leaked: …${output.slice(Math.max(0, at - 80), at + 40)}…`);
  }
});
