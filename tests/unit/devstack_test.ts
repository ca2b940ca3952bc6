import assert from "node:assert/strict";
import { join } from "node:path";
import { stackPorts } from "../../devstack/config.ts";
import { clusterId } from "../../devstack/services/kafka.ts";
import { isAlive, launchDetached, readPid, terminateGroup } from "../../devstack/lib/process.ts";

Deno.test("stackPorts() uses the defaults and takes overrides from the environment", () => {
  assert.deepEqual(stackPorts(() => undefined), {
    kafka: 9092,
    kafkaController: 9093,
    kafkaSsl: 9094,
    kafkaSasl: 9095,
    dynamodb: 8000,
    ferretdb: 27018,
    mongo: 27017,
  });
  assert.equal(stackPorts((name) => (name === "KAFKA_PORT" ? "19092" : undefined)).kafka, 19092);
});

Deno.test("stackPorts() rejects a variable that is not a TCP port, naming it", () => {
  for (const bad of ["0", "-1", "1.5", "abc", "65536"]) {
    assert.throws(
      () => stackPorts((name) => (name === "DDB_PORT" ? bad : undefined)),
      (error: unknown) =>
        error instanceof RangeError && error.message.includes("DDB_PORT") &&
        error.message.includes(`'${bad}'`),
    );
  }
});

// kafka-storage's argument parser reads an id starting with "-" as an option; 1 id in 64 did.
Deno.test("clusterId() is 16 bytes of base64url that never starts with '-'", () => {
  for (let i = 0; i < 2_000; i++) {
    const id = clusterId();
    assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/, id);
  }
});

Deno.test("launchDetached() starts a process that terminateGroup() stops with SIGTERM", async () => {
  const dir = await Deno.makeTempDir({ prefix: "orderstats-devstack-" });
  try {
    const marker = join(dir, "marker");
    const spec = {
      cmd: "bash",
      // bash stays the group leader (its command line carries the marker); sleep is its child.
      args: ["-c", "echo started; sleep 60; true", marker],
      cwd: dir,
      logFile: join(dir, "svc.log"),
      pidFile: join(dir, "svc.pid"),
    };
    const pid = await launchDetached(spec);
    assert.equal(await readPid(spec.pidFile), pid);
    assert.equal(await isAlive(pid, marker), true);
    assert.equal(await isAlive(pid, "some other service"), false);

    assert.equal(await terminateGroup(pid, marker, 5_000), "term");
    assert.equal(await isAlive(pid, marker), false);
    assert.match(await Deno.readTextFile(spec.logFile), /started/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
