/**
 * Single-node Apache Kafka 4 in KRaft mode (broker and controller in one JVM). The jars come
 * from Maven Central through devstack/kafka/pom.xml into .cache/kafka/libs. Besides
 * PLAINTEXT it listens with TLS (SSL) and SASL over TLS (see kafka_security.ts).
 *
 * @module
 */
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { HOST, type StackPorts } from "../config.ts";
import { runLogged } from "../lib/exec.ts";
import { CACHE_DIR, exists, INSTALL_LOG_DIR, LOG_DIR, rel, ROOT, STACK_DIR } from "../lib/paths.ts";
import { say, timed } from "../lib/report.ts";
import type { Service } from "../lib/service.ts";
import { ensureTool, TOOLS } from "../lib/tools.ts";
import {
  ensureCertificates,
  KAFKA_TLS_DIR,
  scramFormatArgs,
  securedListeners,
  securityProperties,
} from "./kafka_security.ts";

const POM = join(ROOT, "devstack/kafka/pom.xml");
const LOG4J_CONFIG = join(ROOT, "devstack/kafka/log4j2.properties");
const LIBS = join(CACHE_DIR, "kafka/libs");
const STAMP = join(LIBS, ".pom.sha256");
const JAVA_OPTS = ["-Xms256m", "-Xmx512m", "-XX:+UseG1GC", "-Djava.awt.headless=true"];

/** Where a broker instance keeps its configuration and log dir. */
export interface KafkaInstance {
  /** Service name: log and pid file names. @default {"kafka"} */
  name?: string;
  /** Its folder. @default {".stack/kafka"} */
  home?: string;
}

/**
 * The Kafka broker of the local stack, or with `instance` another one on its own ports and
 * folder (a private broker a fault test may stop).
 */
export function kafkaService(
  ports: StackPorts,
  { name = "kafka", home = join(STACK_DIR, "kafka") }: KafkaInstance = {},
): Service {
  const scope = name;
  const config = join(home, "server.properties");
  const data = join(home, "data");
  /** Written after a format that created the SCRAM users (older log dirs lack them). */
  const scramMarker = join(home, "scram-users");
  const java = (mainClass: string, ...args: string[]) => [
    ...JAVA_OPTS,
    `-Dlog4j2.configurationFile=${LOG4J_CONFIG}`,
    "-cp",
    `${LIBS}/*`,
    mainClass,
    ...args,
  ];
  return {
    name: scope,
    ports: [
      { label: "broker", port: ports.kafka, envName: "KAFKA_PORT" },
      { label: "controller", port: ports.kafkaController, envName: "KAFKA_CONTROLLER_PORT" },
      { label: "ssl", port: ports.kafkaSsl, envName: "KAFKA_SSL_PORT" },
      { label: "sasl_ssl", port: ports.kafkaSasl, envName: "KAFKA_SASL_PORT" },
    ],
    marker: config,
    readyTimeoutMs: 90_000,
    stopGraceMs: 30_000,

    async install() {
      await ensureTool(TOOLS.java, scope);
      const want = await sha256(await Deno.readFile(POM));
      const have = await Deno.readTextFile(STAMP).catch(() => "");
      if (have.trim() === want) {
        say(scope, `broker jars present (${rel(LIBS)})`);
        return;
      }
      await ensureTool(TOOLS.mvn, scope);
      const logFile = join(INSTALL_LOG_DIR, "kafka-install.log");
      await timed(
        scope,
        `resolving broker jars with mvn into ${rel(LIBS)} (log ${rel(logFile)})`,
        async () => {
          const staging = `${LIBS}.partial`;
          await Deno.remove(staging, { recursive: true }).catch(() => {});
          await runLogged("mvn", [
            "-B",
            "-ntp",
            "-f",
            POM,
            "dependency:copy-dependencies",
            `-DoutputDirectory=${staging}`,
            "-DincludeScope=runtime",
          ], { logFile });
          await Deno.remove(LIBS, { recursive: true }).catch(() => {});
          await Deno.rename(staging, LIBS);
          await Deno.writeTextFile(STAMP, want);
        },
      );
    },

    async prepare() {
      await Deno.mkdir(data, { recursive: true });
      await timed(scope, `TLS certificates in ${rel(KAFKA_TLS_DIR)}`, ensureCertificates);
      // Rewritten on every start so port overrides apply; the voter set is static
      // configuration, so a formatted log dir does not pin the controller port.
      await Deno.writeTextFile(config, serverProperties(ports, data));
      if (await exists(join(data, "meta.properties"))) {
        if (await exists(scramMarker)) return;
        throw new Error(
          `${rel(data)} was formatted before the broker had SCRAM users (they are created ` +
            "only by the format step): run `deno task stack:down kafka --purge`, then up again",
        );
      }
      const logFile = join(LOG_DIR, `${name}-format.log`);
      await timed(
        scope,
        `formatting ${rel(data)} with SCRAM users (log ${rel(logFile)})`,
        () =>
          runLogged(
            "java",
            java(
              "kafka.tools.StorageTool",
              ...["format", "-t", clusterId(), "-c", config, ...scramFormatArgs()],
            ),
            { logFile },
          ),
      );
      await Deno.writeTextFile(scramMarker, "SCRAM-SHA-256 SCRAM-SHA-512\n");
    },

    command: () => ({ cmd: "java", args: java("kafka.Kafka", config), cwd: home }),

    async probe() {
      const kafka = new Kafka({
        clientId: "orderstats-stack-probe",
        brokers: [`${HOST}:${ports.kafka}`],
        logLevel: logLevel.NOTHING,
        connectionTimeout: 1_000,
        retry: { retries: 0 },
      });
      const admin = kafka.admin();
      try {
        await admin.connect();
        await admin.listTopics();
        // Finding a group coordinator creates __consumer_offsets: ready means consumers can join.
        await admin.describeGroups(["orderstats-stack-probe"]);
      } finally {
        await admin.disconnect();
      }
    },
  };
}

function serverProperties(ports: StackPorts, dataDir: string): string {
  const plaintext = `PLAINTEXT://${HOST}:${ports.kafka}`;
  const secured = securedListeners(ports);
  return [
    "# Written by devstack/stack.ts on every start; edit devstack/services/kafka.ts instead.",
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.voters=1@${HOST}:${ports.kafkaController}`,
    `listeners=${[plaintext, `CONTROLLER://${HOST}:${ports.kafkaController}`, ...secured].join()}`,
    `advertised.listeners=${[plaintext, ...secured].join()}`,
    "controller.listener.names=CONTROLLER",
    "inter.broker.listener.name=PLAINTEXT",
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL",
    ...securityProperties(),
    `log.dirs=${dataDir}`,
    "num.partitions=1",
    "offsets.topic.replication.factor=1",
    "offsets.topic.num.partitions=1",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "transaction.state.log.num.partitions=1",
    "share.coordinator.state.topic.replication.factor=1",
    "share.coordinator.state.topic.min.isr=1",
    "group.initial.rebalance.delay.ms=0",
    "auto.create.topics.enable=true",
    "",
  ].join("\n");
}

/**
 * A random Kafka cluster id: 16 bytes, base64url without padding. Like Kafka's own
 * Uuid.randomUuid(), it never starts with "-", which kafka-storage would read as an option.
 */
export function clusterId(): string {
  for (;;) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    const id = btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
      .replace(/=+$/, "");
    if (!id.startsWith("-")) return id;
  }
}

async function sha256(data: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data as BufferSource));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
