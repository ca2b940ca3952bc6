/**
 * compose.yaml and the Containerfile against the CLI contract. Docker cannot run on these
 * machines, so this reads both files: start order, variable names and flags the option table
 * knows, ports, health checks, the Debezium connector settings, base images and permissions.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { OPTIONS } from "../../src/cli/options.ts";
import { EXIT_CODES } from "../../src/cli/exit_codes.ts";
import { BINARY_PERMISSIONS } from "../../devstack/lib/scenario.ts";

const ROOT = new URL("../../", import.meta.url);
const read = (path: string) => Deno.readTextFileSync(new URL(path, ROOT));

interface Service {
  image?: string;
  entrypoint?: string[] | string;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
  healthcheck?: { test: string[] };
  profiles?: string[];
}
// Compose resolves `<<:` merge keys (YAML 1.1), as the services here use them.
const compose = parse(read("compose.yaml"), { merge: true }) as {
  services: Record<string, Service>;
};
const services = compose.services;
const orderstats = Object.entries(services).filter(([, s]) => s.image === "orderstats:local");
const option = (name: string) => OPTIONS.find((o) => o.name === name)!;

/** Variables of the AWS SDK's own chains, which orderstats leaves to it. */
const SDK_VARIABLES = new Set([
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_DEFAULT_REGION",
  "AWS_PROFILE",
  "AWS_ENDPOINT_URL_DYNAMODB",
]);

/** Every service `name` waits for, directly or through others. */
function dependencies(name: string, seen = new Set<string>()): Set<string> {
  for (const dep of Object.keys(services[name].depends_on ?? {})) {
    if (!seen.has(dep)) dependencies(dep, seen.add(dep));
  }
  return seen;
}

/** The connector configuration connect-register sends. */
function connectorConfig(): Record<string, string> {
  const script = [services["connect-register"].entrypoint].flat().join("\n");
  const json = /<<'JSON'\n([\s\S]*?)\n\s*JSON\n/.exec(script);
  assert.ok(json, "connect-register sends a JSON connector config");
  return JSON.parse(json[1]);
}

Deno.test("compose.yaml: orderstats services use only variables and flags the CLI knows", () => {
  const known = new Set(OPTIONS.flatMap((o) => o.env ? [o.env] : []));
  assert.ok(orderstats.length >= 4, "setup, bootstrap, live, totals");
  for (const [name, service] of orderstats) {
    for (const variable of Object.keys(service.environment ?? {})) {
      assert.ok(known.has(variable) || SDK_VARIABLES.has(variable), `${name}: ${variable}`);
    }
    const text = [service.entrypoint].flat().join(" ");
    const mode = /--mode=(\w+)/.exec(text)?.[1];
    assert.ok(option("mode").choices!.includes(mode!), `${name}: --mode=${mode}`);
    for (const [, flag] of text.matchAll(/\s--([a-z-]+)/g)) {
      assert.ok(OPTIONS.some((o) => o.name === flag), `${name}: unknown flag --${flag}`);
    }
  }
});

Deno.test("compose.yaml: bootstrap starts after the tables, the seed data and a streaming connector", () => {
  const order: [string, string, string][] = [
    ["mongo-init", "mongo", "service_healthy"],
    ["mongo-seed", "mongo-init", "service_completed_successfully"],
    ["connect", "redpanda", "service_healthy"],
    ["connect-register", "connect", "service_healthy"],
    ["connector-streaming", "connect-register", "service_completed_successfully"],
    ["bootstrap", "setup", "service_completed_successfully"],
    ["bootstrap", "mongo-seed", "service_completed_successfully"],
    ["bootstrap", "connector-streaming", "service_completed_successfully"],
    ["live", "bootstrap", "service_completed_successfully"],
  ];
  for (const [service, dependency, condition] of order) {
    assert.equal(services[service].depends_on?.[dependency]?.condition, condition, service);
  }
  for (const needed of ["mongo-init", "redpanda", "dynamodb-local", "connect-register"]) {
    assert.ok(dependencies("bootstrap").has(needed), `bootstrap waits for ${needed}`);
  }
  // Whatever waits for a healthy service relies on that service's health check.
  for (const [name, service] of Object.entries(services)) {
    for (const [dep, { condition }] of Object.entries(service.depends_on ?? {})) {
      if (condition === "service_healthy") {
        assert.ok(services[dep].healthcheck, `${name} waits for ${dep}'s missing health check`);
      }
    }
  }
  const scripts = Object.values(services).map((s) => [s.entrypoint].flat().join("\n"));
  assert.ok(!scripts.some((s) => /sleep [0-9]+\s*(\n|$)/.test(s) && !/until|for |while/.test(s)));
});

Deno.test("compose.yaml: the connector takes no snapshot and feeds the topic orderstats reads", () => {
  const config = connectorConfig();
  assert.equal(config["snapshot.mode"], "no_data", "bootstrap takes the snapshot");
  assert.ok(Number(config["heartbeat.interval.ms"]) > 0, "heartbeats tell when it streams");
  const [db, collection] = config["collection.include.list"].split(".");
  const env = services.setup.environment!;
  assert.equal(env.KAFKA_TOPIC, `${config["topic.prefix"]}.${db}.${collection}`);
  assert.equal(env.MONGO_DB, db);
  assert.equal(env.MONGO_COLLECTION, collection);
  const waits = [services["connector-streaming"].entrypoint].flat().join("\n");
  assert.match(waits, new RegExp(`__debezium-heartbeat\\.${config["topic.prefix"]}`));
  assert.match(waits, /--offset end -n 1/, "a heartbeat sent after the wait began");
});

Deno.test("compose.yaml: a second `up` works — bootstrap over a live worker's totals is not a failure", () => {
  const script = [services.bootstrap.entrypoint].flat().join("\n");
  assert.match(script, /--mode=bootstrap "\$\$@"/);
  assert.match(script, /"\$\$code" = 4 \]; then .*exit 0/);
  assert.match(EXIT_CODES[4], /bootstrap refused over live state/);
  const seed = [services["mongo-seed"].entrypoint].flat().join("\n");
  assert.match(seed, /\$setOnInsert/, "seeding leaves existing orders alone");
});

Deno.test("compose.yaml and Containerfile: live's port and health check match the CLI", () => {
  const live = services.live;
  const port = live.environment!.HTTP_PORT;
  assert.equal(port, option("http-port").default);
  assert.deepEqual(live.ports, [`${port}:${port}`]);
  const check = live.healthcheck!.test.join(" ");
  assert.match(check, new RegExp(`/dev/tcp/127\\.0\\.0\\.1/${port}`));
  assert.match(check, /GET \/readyz /);
  const containerfile = read("Containerfile");
  assert.match(containerfile, new RegExp(`^EXPOSE ${port}$`, "m"));
  assert.match(containerfile, /^ENTRYPOINT \["\/orderstats"\]$/m);
  assert.match(containerfile, /^USER 10001:10001$/m, "not root");
});

Deno.test("Containerfile: Deno pinned by version and digest; the runtime base's missing digest is said", () => {
  const containerfile = read("Containerfile");
  const froms = [...containerfile.matchAll(/^FROM (\S+)/gm)].map(([, image]) => image);
  const pinned = read("scripts/deno.sh").match(/DENO_VERSION=(\S+)/)![1];
  assert.match(froms[0], new RegExp(`^denoland/deno:${pinned}@sha256:[0-9a-f]{64}$`));
  assert.equal(froms[1], "debian:12-slim");
  assert.match(containerfile, /debian:12-slim, is NOT pinned by digest/);
});

Deno.test("Containerfile: the binary gets the compile task's permissions, never all of them", () => {
  const containerfile = read("Containerfile");
  assert.match(containerfile, /^RUN deno task compile /m);
  assert.ok(!/deno compile/.test(containerfile.replace(/^#.*$/gm, "")), "compiled by the task");
  const task = JSON.parse(read("deno.json")).tasks.compile as string;
  assert.ok(!/(^|\s)(-A|--allow-all)(\s|$)/.test(task), task);
  assert.deepEqual([...BINARY_PERMISSIONS].sort(), [
    "--allow-env",
    "--allow-ffi",
    "--allow-net",
    "--allow-read",
    "--allow-sys=hostname,osRelease,uid,gid,homedir",
    "--allow-write",
  ]);
});
