import assert from "node:assert/strict";
import { parseConfig } from "../../src/cli/config.ts";
import { kafkaConfig } from "../../src/sources/kafka/client.ts";
import { mskIamTokenProvider } from "../../src/sources/kafka/msk_iam.ts";
import { ConfigError } from "../../src/util/errors.ts";

const SECRET = "s3cr3t-Pa55";
const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

function kafka(argv: string[], env: Record<string, string> = {}) {
  const parsed = parseConfig(["--mode=live", ...argv], env);
  assert.ok("config" in parsed);
  return parsed.config.kafka;
}

async function tempFile(text: string): Promise<string> {
  const path = await Deno.makeTempFile();
  await Deno.writeTextFile(path, text);
  return path;
}

Deno.test("Kafka defaults to PLAINTEXT without SASL and DLQ batches uncompressed", () => {
  const c = kafka([]);
  assert.deepEqual(c.connection, { brokers: ["localhost:9092"], tls: undefined, sasl: undefined });
  assert.equal(c.dlqCompression, "none");
  assert.equal(kafka(["--dlq-compression=zstd"]).dlqCompression, "zstd");
});

Deno.test("SASL_SSL with SCRAM takes the password from the environment or a file", async () => {
  const env = {
    KAFKA_SECURITY_PROTOCOL: "SASL_SSL",
    KAFKA_SASL_MECHANISM: "SCRAM-SHA-512",
    KAFKA_SASL_USERNAME: "orders",
    KAFKA_SASL_PASSWORD: SECRET,
  };
  const fromEnv = kafka([], env).connection;
  assert.deepEqual(fromEnv.tls, { ca: undefined, cert: undefined, key: undefined });
  assert.deepEqual(fromEnv.sasl, {
    mechanism: "SCRAM-SHA-512",
    username: "orders",
    password: SECRET,
  });
  const file = await tempFile(`${SECRET}\n`);
  const { KAFKA_SASL_PASSWORD: _, ...withoutPassword } = env;
  const fromFile = kafka([`--kafka-sasl-password-file=${file}`], withoutPassword).connection;
  assert.equal(fromFile.sasl?.mechanism === "SCRAM-SHA-512" && fromFile.sasl.password, SECRET);
  await Deno.remove(file);
});

Deno.test("SSL reads the CA, client certificate and key files into KafkaJS's ssl options", async () => {
  const ca = await tempFile(PEM);
  const cert = await tempFile(PEM.replace("MIIB", "MIIC"));
  const key = await tempFile("-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n");
  const connection = kafka([
    "--kafka-security-protocol=SSL",
    `--kafka-ssl-ca-location=${ca}`,
    `--kafka-ssl-certificate-location=${cert}`,
    `--kafka-ssl-key-location=${key}`,
  ]).connection;
  const ssl = kafkaConfig(connection).ssl as { ca: string[]; cert: string; key: string };
  assert.deepEqual(ssl.ca, [PEM]);
  assert.match(ssl.cert, /MIIC/);
  assert.match(ssl.key, /PRIVATE KEY/);
  assert.equal(kafkaConfig(connection).sasl, undefined);
  for (const path of [ca, cert, key]) await Deno.remove(path);
});

Deno.test("SASL mechanisms map to KafkaJS's names; MSK IAM signs OAUTHBEARER tokens", () => {
  const base = { brokers: ["b:9096"], tls: {} };
  for (
    const [mechanism, kafkajs] of [
      ["PLAIN", "plain"],
      ["SCRAM-SHA-256", "scram-sha-256"],
      ["SCRAM-SHA-512", "scram-sha-512"],
    ] as const
  ) {
    const sasl = kafkaConfig({ ...base, sasl: { mechanism, username: "u", password: "p" } }).sasl;
    assert.deepEqual(sasl, { mechanism: kafkajs, username: "u", password: "p" });
  }
  const iam = kafkaConfig({ ...base, sasl: { mechanism: "AWS_MSK_IAM", region: "eu-west-1" } });
  assert.equal(iam.sasl?.mechanism, "oauthbearer");
  assert.deepEqual(iam.ssl, {}, "TLS without a CA file verifies against the root store");
});

Deno.test("AWS_MSK_IAM takes the region from an MSK broker name, else AWS_REGION", () => {
  const iam = ["--kafka-security-protocol=SASL_SSL", "--kafka-sasl-mechanism=AWS_MSK_IAM"];
  const msk = "b-1.orders.x1y2z3.c2.kafka.eu-west-1.amazonaws.com:9098";
  assert.deepEqual(kafka([...iam, `--kafka-brokers=${msk}`]).connection.sasl, {
    mechanism: "AWS_MSK_IAM",
    region: "eu-west-1",
  });
  assert.deepEqual(
    kafka([...iam, "--kafka-brokers=k:9098"], { AWS_REGION: "ap-south-1" })
      .connection.sasl,
    { mechanism: "AWS_MSK_IAM", region: "ap-south-1" },
  );
});

Deno.test({
  name: "the MSK IAM token is a presigned kafka-cluster:Connect URL signed with the chain's key",
  // A mock-free check that needs no AWS account: signing is local. Whether MSK accepts the
  // token cannot be tested here (no MSK cluster is reachable).
  async fn() {
    const saved = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"].map(
      (name) => [name, Deno.env.get(name)] as const,
    );
    Deno.env.set("AWS_ACCESS_KEY_ID", "AKIAORDERSTATSTEST");
    Deno.env.set("AWS_SECRET_ACCESS_KEY", SECRET);
    Deno.env.delete("AWS_PROFILE");
    try {
      const provider = mskIamTokenProvider("eu-west-1");
      const { value } = await provider();
      const url = new URL(atob(value.replaceAll("-", "+").replaceAll("_", "/")));
      assert.equal(url.host, "kafka.eu-west-1.amazonaws.com");
      assert.equal(url.searchParams.get("Action"), "kafka-cluster:Connect");
      assert.match(
        url.searchParams.get("X-Amz-Credential")!,
        /^AKIAORDERSTATSTEST\/\d{8}\/eu-west-1\//,
      );
      assert.ok(!value.includes(SECRET) && !url.href.includes(SECRET));
      assert.equal((await provider()).value, value, "a fresh token is reused");
    } finally {
      for (const [name, value] of saved) {
        if (value === undefined) Deno.env.delete(name);
        else Deno.env.set(name, value);
      }
    }
  },
});

Deno.test("inconsistent Kafka security settings fail naming the flag and its variable", async () => {
  const notPem = await tempFile("not a certificate");
  const scram = ["--kafka-security-protocol=SASL_SSL", "--kafka-sasl-mechanism=SCRAM-SHA-256"];
  const cases: [string[], Record<string, string>, RegExp][] = [
    [
      ["--kafka-security-protocol=TLS"],
      {},
      /--kafka-security-protocol \(KAFKA_SECURITY_PROTOCOL\) must be one of/,
    ],
    [
      ["--kafka-security-protocol=SASL_SSL"],
      {},
      /--kafka-security-protocol \(KAFKA_SECURITY_PROTOCOL\) SASL_SSL needs --kafka-sasl-mechanism \(KAFKA_SASL_MECHANISM\)/,
    ],
    [
      ["--kafka-sasl-mechanism=PLAIN"],
      {},
      /--kafka-sasl-mechanism \(KAFKA_SASL_MECHANISM\) needs .*SASL_SSL.*got PLAINTEXT/,
    ],
    [scram, { KAFKA_SASL_PASSWORD: SECRET }, /needs --kafka-sasl-username \(KAFKA_SASL_USERNAME\)/],
    [
      [...scram, "--kafka-sasl-username=u"],
      {},
      /needs a password: set KAFKA_SASL_PASSWORD or --kafka-sasl-password-file/,
    ],
    [
      [...scram, "--kafka-sasl-username=u", `--kafka-sasl-password-file=${notPem}`],
      { KAFKA_SASL_PASSWORD: SECRET },
      /either --kafka-sasl-password \(KAFKA_SASL_PASSWORD\) or --kafka-sasl-password-file/,
    ],
    [
      [...scram, "--kafka-sasl-username=u", "--kafka-sasl-password-file=/nonexistent/pw"],
      {},
      /--kafka-sasl-password-file \(KAFKA_SASL_PASSWORD_FILE\): cannot read "\/nonexistent\/pw"/,
    ],
    [
      [`--kafka-ssl-ca-location=${notPem}`],
      {},
      /--kafka-ssl-ca-location \(KAFKA_SSL_CA_LOCATION\) needs .*SSL or SASL_SSL: got PLAINTEXT/,
    ],
    [
      ["--kafka-security-protocol=SSL", `--kafka-ssl-ca-location=${notPem}`],
      {},
      /KAFKA_SSL_CA_LOCATION\): ".*" is not a PEM file/,
    ],
    [
      ["--kafka-security-protocol=SSL", "--kafka-ssl-key-location=/k"],
      {},
      /KAFKA_SSL_CERTIFICATE_LOCATION\) and --kafka-ssl-key-location \(KAFKA_SSL_KEY_LOCATION\) go together/,
    ],
    [
      ["--kafka-security-protocol=SASL_SSL", "--kafka-sasl-mechanism=AWS_MSK_IAM"],
      {},
      /AWS_MSK_IAM: cannot tell the cluster's region from --kafka-brokers \(KAFKA_BROKERS\)/,
    ],
    [
      [`--kafka-sasl-password=${SECRET}`],
      {},
      /--kafka-sasl-password is not a flag.*KAFKA_SASL_PASSWORD or --kafka-sasl-password-file/,
    ],
    [
      ["--dlq-compression=brotli"],
      {},
      /--dlq-compression \(DLQ_COMPRESSION\) must be one of none, gzip, snappy, lz4, zstd/,
    ],
  ];
  try {
    for (const [argv, env, message] of cases) {
      assert.throws(() => parseConfig(["--mode=live", ...argv], env), (error: unknown) => {
        assert.ok(error instanceof ConfigError, String(error));
        assert.match(error.message, message);
        assert.ok(!error.message.includes(SECRET), `secret in: ${error.message}`);
        return true;
      });
    }
  } finally {
    await Deno.remove(notPem);
  }
});

Deno.test("bootstrap and totals ignore Kafka security settings: they never connect to Kafka", () => {
  const env = {
    KAFKA_SECURITY_PROTOCOL: "SASL_SSL",
    KAFKA_SASL_MECHANISM: "SCRAM-SHA-512",
    KAFKA_SSL_CA_LOCATION: "/only/mounted/in/live/ca.pem",
  };
  for (const mode of ["bootstrap", "totals"]) {
    const parsed = parseConfig([`--mode=${mode}`], env);
    assert.ok("config" in parsed);
    assert.deepEqual(parsed.config.kafka.connection, { brokers: ["localhost:9092"] });
  }
  assert.throws(() => parseConfig(["--mode=setup"], env), ConfigError);
});
