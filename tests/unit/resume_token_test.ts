import assert from "node:assert/strict";
import { ResumeTokenError, tokenClusterTime } from "../../src/sources/mongo/resume_token.ts";
import { packTimestamp, type Position, timestampParts } from "../../src/pipeline/change.ts";
import { bootstrapVersion, judge, parseVersion } from "../../src/state/version.ts";

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

Deno.test("judge() covers only changes before the handoff time T0, not those at T0", () => {
  // A new stream's first token T0 is one tick past the last write: a write can get exactly T0,
  // and the scan may have read the order before it. Only `< T0` is covered.
  const t0 = packTimestamp(100, 5);
  const boot = parseVersion(bootstrapVersion(t0));
  const change = (position: Position) => ({ position, partition: 0, offset: 1n });
  assert.equal(judge(change({ clusterTime: packTimestamp(100, 4) }), boot), "covered");
  assert.equal(judge(change({ clusterTime: packTimestamp(99, 7) }), boot), "covered");
  assert.equal(judge(change({ clusterTime: t0 }), boot), "new");
  assert.equal(judge(change({ clusterTime: packTimestamp(100, 6) }), boot), "new");
  // Wall time can step back, and no position says nothing: neither is ever covered.
  assert.equal(judge(change({ wallMs: 1_000 }), boot), "new");
  assert.equal(judge(change({}), boot), "new");
  // Bootstrapped without change streams: nothing is covered.
  assert.equal(
    judge(change({ clusterTime: 1n }), parseVersion(bootstrapVersion(undefined))),
    "new",
  );
});
