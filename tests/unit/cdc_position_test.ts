import assert from "node:assert/strict";
import { sourcePosition, tsMsIsWallTime } from "../../src/sources/cdc/mod.ts";
import { BadRecordError } from "../../src/util/errors.ts";

Deno.test("tsMsIsWallTime() cuts at Debezium 3.4", () => {
  const cases: [string | undefined, boolean][] = [
    ["1.9.7.Final", false],
    ["2.7.0.Final", false],
    ["3.0.7.Final", false],
    ["3.3.0.CR1", false],
    ["3.3.1.Final", false],
    ["3.4.0.Alpha1", true],
    ["3.4.0.Final", true],
    ["3.4.0-SNAPSHOT", true],
    ["3.4", true],
    ["3.10.0.Final", true],
    ["4.0.0.Final", true],
  ];
  for (const [version, expected] of cases) {
    assert.equal(tsMsIsWallTime(version), expected, String(version));
  }
});

Deno.test("tsMsIsWallTime() treats unknown versions as wall time", () => {
  for (const version of [undefined, "", "garbage", "3", "v3.3.0", "3.x"]) {
    assert.equal(tsMsIsWallTime(version), true, String(version));
  }
});

Deno.test("sourcePosition() packs ts_ms seconds and ord into a cluster time up to 3.3", () => {
  assert.deepEqual(
    sourcePosition({ version: "3.3.1.Final", ts_ms: 1741186978000, ord: 25 }, "t[0]@1"),
    { clusterTime: (1741186978n << 32n) | 25n },
  );
  assert.deepEqual(
    sourcePosition({ version: "2.7.0.Final", ts_ms: 1741186978999, ord: 0xffff_ffff }, "t[0]@1"),
    { clusterTime: (1741186978n << 32n) | 0xffff_ffffn },
  );
});

Deno.test("sourcePosition() gives wall time for 3.4+, missing versions and missing ord", () => {
  assert.deepEqual(
    sourcePosition({ version: "3.4.0.Final", ts_ms: 1741186978123, ord: 25 }, "t[0]@1"),
    { wallMs: 1741186978123 },
  );
  assert.deepEqual(sourcePosition({ ts_ms: 1741186978000, ord: 25 }, "t[0]@1"), {
    wallMs: 1741186978000,
  });
  assert.deepEqual(sourcePosition({ version: "2.7.0.Final", ts_ms: 1741186978000 }, "t[0]@1"), {
    wallMs: 1741186978000,
  });
  assert.deepEqual(sourcePosition({ version: "2.7.0.Final" }, "t[0]@1"), {});
});

Deno.test("sourcePosition() rejects bad ts_ms and ord", () => {
  const bad = [
    { version: "2.7.0.Final", ts_ms: "1741186978000", ord: 1 },
    { version: "2.7.0.Final", ts_ms: -1, ord: 1 },
    { version: "2.7.0.Final", ts_ms: 1.5, ord: 1 },
    { version: "2.7.0.Final", ts_ms: 1741186978000, ord: -1 },
    { version: "2.7.0.Final", ts_ms: 1741186978000, ord: 2 ** 32 },
    { version: "2.7.0.Final", ts_ms: 1741186978000, ord: "3" },
  ];
  for (const source of bad) {
    assert.throws(() => sourcePosition(source, "orders.cdc[2]@9"), (error: unknown) => {
      assert.ok(error instanceof BadRecordError, JSON.stringify(source));
      assert.equal(error.where, "orders.cdc[2]@9");
      assert.match(error.message, /source (ts_ms|ord)/);
      return true;
    });
  }
});
