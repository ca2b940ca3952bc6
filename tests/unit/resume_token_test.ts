import assert from "node:assert/strict";
import { ResumeTokenError, tokenClusterTime } from "../../src/sources/mongo/resume_token.ts";
import { packTimestamp, timestampParts } from "../../src/sources/change.ts";
import { bootstrapVersion, changeVersion, isCoveredByHandoff } from "../../src/state/version.ts";

Deno.test("tokenClusterTime() reads the Timestamp of a real MongoDB token", () => {
  // A token from MongoDB 8.0 (cdc-facts.md): Timestamp(1741186978, 25).
  const time = tokenClusterTime({
    _data:
      "8267C867A2000000192B042C0100296E5A1004ABCDEF0123456789ABCDEF0123456789463C6F7065726174696F6E54797065003C696E736572740046646F63756D656E744B657900461E5F6964002B020004",
  });
  assert.deepEqual(timestampParts(time), { t: 1741186978, i: 25 });
  assert.equal(time, packTimestamp(1741186978, 25));
});

Deno.test("tokenClusterTime() rejects what is not a KeyString token", () => {
  for (const token of [{ _data: "" }, { _data: "zz" }, { _data: "0167C867A200000019" }, {}, null]) {
    assert.throws(() => tokenClusterTime(token as never), ResumeTokenError);
  }
});

Deno.test("ledger versions order bootstrap, events and raw records", () => {
  const t0 = packTimestamp(100, 5);
  const boot = bootstrapVersion(t0);
  const atT0 = changeVersion({ clusterTime: t0 }, 999n);
  const after = changeVersion({ clusterTime: packTimestamp(100, 6) }, 0n);
  const before = changeVersion({ clusterTime: packTimestamp(99, 7) }, 5000n);
  const raw = changeVersion({}, 3n);
  assert.ok(before < boot && atT0 < boot && boot < after && after < raw);
  assert.ok(changeVersion({ clusterTime: t0 }, 9n) < changeVersion({ clusterTime: t0 }, 10n));
  assert.ok(changeVersion({}, 9n) < changeVersion({}, 10n));
  assert.ok(bootstrapVersion(undefined) < after);
  // Wall time (Debezium ≥ 3.4) stands for the end of its second.
  assert.equal(
    changeVersion({ wallMs: 100_001 }, 1n),
    changeVersion({ clusterTime: packTimestamp(100, 0xffffffff) }, 1n),
  );
});

Deno.test("isCoveredByHandoff() skips only what certainly precedes the handoff", () => {
  const t0 = packTimestamp(100, 5);
  assert.ok(isCoveredByHandoff({ clusterTime: t0 }, t0));
  assert.ok(isCoveredByHandoff({ clusterTime: packTimestamp(100, 4) }, t0));
  assert.ok(!isCoveredByHandoff({ clusterTime: packTimestamp(100, 6) }, t0));
  assert.ok(isCoveredByHandoff({ wallMs: 99_999 }, t0));
  assert.ok(!isCoveredByHandoff({ wallMs: 100_000 }, t0), "same second may be after T0");
  assert.ok(!isCoveredByHandoff({}, t0));
  assert.ok(!isCoveredByHandoff({ clusterTime: 1n }, undefined));
});
