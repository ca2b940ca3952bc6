/**
 * The local broker's secured listeners: TLS with client certificates (SSL) and SASL over
 * TLS (SCRAM-SHA-256, SCRAM-SHA-512, PLAIN). Certificates are made with the JDK's keytool
 * into .stack/kafka/tls (a CA, the broker's keystore, a truststore, and PEM files for Deno
 * clients); SCRAM users are created when the log dir is formatted.
 *
 * Development secrets only: they protect nothing but a loopback test broker.
 *
 * @module
 */
import { join } from "node:path";
import { HOST, type StackPorts } from "../config.ts";
import { runLogged } from "../lib/exec.ts";
import { exists, LOG_DIR, ROOT, STACK_DIR } from "../lib/paths.ts";

/** Where the certificates live. */
export const KAFKA_TLS_DIR: string = join(STACK_DIR, "kafka/tls");

/** PEM files a client of the secured listeners uses. */
export const KAFKA_TLS_FILES = {
  /** The devstack CA that signed the broker's and the client's certificates. */
  ca: join(KAFKA_TLS_DIR, "ca.pem"),
  /** Client certificate (the SSL listener requires one). */
  clientCert: join(KAFKA_TLS_DIR, "client.pem"),
  /** The client certificate's private key, PKCS#8. */
  clientKey: join(KAFKA_TLS_DIR, "client.key"),
} as const;

/** The SASL user: SCRAM-SHA-256 and SCRAM-SHA-512 credentials, and a PLAIN login. */
export const KAFKA_SASL_USER = { username: "orderstats", password: "orderstats-dev-secret" };

const STORE_PASSWORD = "devstack-keystore";
const CA_STORE = join(KAFKA_TLS_DIR, "ca.p12");
const BROKER_STORE = join(KAFKA_TLS_DIR, "broker.p12");
const CLIENT_STORE = join(KAFKA_TLS_DIR, "client.p12");
const TRUSTSTORE = join(KAFKA_TLS_DIR, "truststore.p12");
const EXPORT_KEY = join(ROOT, "devstack/kafka/ExportPrivateKey.java");
const VALIDITY_DAYS = "3650";
/** Written once every file is there: an interrupted run starts over. */
const COMPLETE = join(KAFKA_TLS_DIR, "complete");

/**
 * Makes the CA, the broker keystore, the truststore and the client's PEM files, unless a
 * previous run completed them.
 */
export async function ensureCertificates(): Promise<void> {
  if (await exists(COMPLETE)) return;
  await Deno.remove(KAFKA_TLS_DIR, { recursive: true }).catch(() => {});
  await Deno.mkdir(KAFKA_TLS_DIR, { recursive: true });
  const logFile = join(LOG_DIR, "kafka-tls.log");
  const keytool = (...args: string[]) =>
    runLogged("keytool", [...args, "-storepass", STORE_PASSWORD], { logFile, cwd: KAFKA_TLS_DIR });
  const keypair = (store: string, alias: string, dname: string, ...ext: string[]) =>
    keytool(
      "-genkeypair",
      ...["-keystore", store, "-storetype", "PKCS12", "-alias", alias, "-dname", dname],
      ...["-keyalg", "EC", "-groupname", "secp256r1", "-validity", VALIDITY_DAYS, ...ext],
    );
  // A certificate for `alias` in `store`, signed by the CA, stored back with the CA before it.
  const sign = async (store: string, alias: string, ...ext: string[]) => {
    await keytool("-certreq", "-keystore", store, "-alias", alias, "-file", `${alias}.csr`);
    await keytool(
      "-gencert",
      ...["-keystore", CA_STORE, "-alias", "ca", "-infile", `${alias}.csr`, "-rfc"],
      ...["-outfile", `${alias}.pem`, "-validity", VALIDITY_DAYS, ...ext],
    );
    const importcert = (...args: string[]) => keytool("-importcert", "-keystore", store, ...args);
    await importcert("-alias", "ca", "-file", "ca.pem", "-noprompt");
    await importcert("-alias", alias, "-file", `${alias}.pem`);
  };

  await keypair(CA_STORE, "ca", "CN=orderstats devstack CA", "-ext", "bc:c");
  await keytool("-exportcert", "-keystore", CA_STORE, "-alias", "ca", "-rfc", "-file", "ca.pem");
  // Each keytool run is a JVM start: the three chains below go in parallel.
  await Promise.all([
    keytool(
      "-importcert",
      ...["-keystore", TRUSTSTORE, "-storetype", "PKCS12", "-alias", "ca", "-file", "ca.pem"],
      "-noprompt",
    ),
    (async () => {
      await keypair(BROKER_STORE, "broker", "CN=localhost");
      const san = `SAN=dns:localhost,ip:${HOST}`;
      await sign(BROKER_STORE, "broker", "-ext", san, "-ext", "EKU=serverAuth");
    })(),
    (async () => {
      await keypair(CLIENT_STORE, "client", "CN=orderstats-client");
      await sign(CLIENT_STORE, "client", "-ext", "EKU=clientAuth");
      await runLogged(
        "java",
        [EXPORT_KEY, CLIENT_STORE, STORE_PASSWORD, "client", KAFKA_TLS_FILES.clientKey],
        { logFile },
      );
    })(),
  ]);
  await Deno.writeTextFile(COMPLETE, "");
}

/** `kafka-storage format` arguments that create the SCRAM credentials of {@link KAFKA_SASL_USER}. */
export function scramFormatArgs(): string[] {
  const { username, password } = KAFKA_SASL_USER;
  return ["SCRAM-SHA-256", "SCRAM-SHA-512"].flatMap((mechanism) => [
    "--add-scram",
    `${mechanism}=[name=${username},password=${password}]`,
  ]);
}

/** The listeners after PLAINTEXT and CONTROLLER, as `NAME://host:port`. */
export function securedListeners(ports: StackPorts): string[] {
  return [`SSL://${HOST}:${ports.kafkaSsl}`, `SASL_SSL://${HOST}:${ports.kafkaSasl}`];
}

/** server.properties lines for the SSL and SASL_SSL listeners. */
export function securityProperties(): string[] {
  const { username, password } = KAFKA_SASL_USER;
  const scram = "org.apache.kafka.common.security.scram.ScramLoginModule required;";
  return [
    `ssl.keystore.location=${BROKER_STORE}`,
    "ssl.keystore.type=PKCS12",
    `ssl.keystore.password=${STORE_PASSWORD}`,
    `ssl.key.password=${STORE_PASSWORD}`,
    `ssl.truststore.location=${TRUSTSTORE}`,
    "ssl.truststore.type=PKCS12",
    `ssl.truststore.password=${STORE_PASSWORD}`,
    // The SSL listener proves the client-certificate path; SASL_SSL authenticates by password.
    "listener.name.ssl.ssl.client.auth=required",
    "listener.name.sasl_ssl.ssl.client.auth=none",
    "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
    `listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=${scram}`,
    `listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=${scram}`,
    "listener.name.sasl_ssl.plain.sasl.jaas.config=" +
    `org.apache.kafka.common.security.plain.PlainLoginModule required user_${username}="${password}";`,
  ];
}
