import assert from "node:assert/strict";
import { packTimestamp } from "../../src/pipeline/change.ts";
import {
  bootstrapVersion,
  formatVersion,
  judge,
  type LedgerVersion,
  parseVersion,
  versionAfter,
} from "../../src/state/version.ts";

Deno.test("formatVersion() and parseVersion() round-trip bootstrap and change versions", () => {
  const versions: LedgerVersion[] = [
    { kind: "bootstrap", handoffTime: packTimestamp(100, 5) },
    { kind: "bootstrap", handoffTime: undefined },
    { kind: "change", clusterTime: packTimestamp(100, 6), offsets: new Map([[0, 17n]]) },
    { kind: "change", clusterTime: undefined, offsets: new Map([[0, 3n], [2, 9007199254740993n]]) },
  ];
  for (const version of versions) assert.deepEqual(parseVersion(formatVersion(version)), version);
  assert.equal(bootstrapVersion(packTimestamp(100, 5)), "0000006400000005/b");
  assert.equal(
    formatVersion({ kind: "change", clusterTime: undefined, offsets: new Map([[2, 9n], [0, 3n]]) }),
    "~/0@3,2@9",
  );
});

Deno.test("parseVersion() reads versions written before partitions were recorded", () => {
  const exact = parseVersion(
    `${packTimestamp(100, 6).toString(16).padStart(16, "0")}/${"11".padStart(16, "0")}`,
  );
  assert.deepEqual(exact, {
    kind: "change",
    clusterTime: packTimestamp(100, 6),
    offsets: new Map(),
    legacyOffset: 17n,
  });
  // Debezium ≥ 3.4 wall seconds were stored as the end of the second: not an exact time.
  const wall = parseVersion(
    `${packTimestamp(100, 0xffffffff).toString(16).padStart(16, "0")}/${"5".padStart(16, "0")}`,
  );
  assert.equal(wall.kind === "change" && wall.clusterTime, undefined);
  const raw = parseVersion(`~/${"a".padStart(16, "0")}`);
  assert.equal(raw.kind === "change" && raw.legacyOffset, 10n);
  // The legacy offset counts for the partition of the order's next change.
  const at = (offset: bigint, partition = 1) => ({ position: {}, partition, offset });
  assert.equal(judge(at(10n), raw), "stale");
  assert.equal(judge(at(11n), raw), "new");
  assert.deepEqual(versionAfter(raw, at(11n)), {
    kind: "change",
    clusterTime: undefined,
    offsets: new Map([[1, 11n]]),
  });
});

Deno.test("parseVersion() rejects what no version of orderstats wrote", () => {
  for (const ver of ["", "b", "12/b", "~/", "~/0@", "~/x@1", "~/0@1,", "zz/0@1"]) {
    assert.throws(() => parseVersion(ver), RangeError, ver);
  }
});

Deno.test("versionAfter() keeps the highest offset per partition and the newest exact time", () => {
  const ct = packTimestamp(100, 6);
  const first = versionAfter({ kind: "bootstrap", handoffTime: ct }, {
    position: { clusterTime: ct },
    partition: 0,
    offset: 5n,
  });
  const tombstone = versionAfter(first, { position: {}, partition: 0, offset: 6n });
  assert.deepEqual(tombstone, { kind: "change", clusterTime: ct, offsets: new Map([[0, 6n]]) });
  const elsewhere = versionAfter(tombstone, { position: {}, partition: 3, offset: 1n });
  assert.deepEqual(elsewhere.kind === "change" && [...elsewhere.offsets], [[0, 6n], [3, 1n]]);
});
