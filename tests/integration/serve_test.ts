/**
 * The read API over real HTTP against DynamoDB Local: `--mode=serve`, and the same routes
 * on a live worker's port with `--serve-api`. Good requests, bad paths, bad parameters.
 */
import assert from "node:assert/strict";
import { type Document, Long } from "mongodb";
import {
  eventually,
  LiveWorker,
  mongoCollection,
  mongoTotals,
  orderstatsOk,
  scenario,
  stackFlags,
} from "../../devstack/lib/scenario.ts";
import { LIVE_TEST_OPTIONS, prepare, startWorker } from "../support/live.ts";
import { isReady } from "../../devstack/demo/metrics.ts";

const ORDERS: Document[] = [
  { _id: 1, customer_id: "c1", amount: 10 },
  { _id: 2, customer_id: "c1", amount: 5 },
  { _id: 3, customer_id: "a/b", amount: 7 },
  { _id: 4, customer_id: "x y?", amount: 1 },
  { _id: 5, customer_id: "ü", amount: 2 },
  { _id: 6, customer_id: "max", amount: Long.fromString("9223372036854775807") },
  { _id: 7, customer_id: "42", amount: 1 }, // a string customer…
  { _id: 8, customer_id: 42, amount: 20 }, // …and a numeric one: two customers, as in $group
  { _id: 9, customer_id: Long.fromString("42"), amount: 22 },
  { _id: 10, customer_id: "n:42", amount: 300 },
  ...Array.from({ length: 7 }, (_, i) => ({ _id: 100 + i, customer_id: `p${i}`, amount: i })),
];

async function get(port: number, path: string, init?: RequestInit) {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: JSON.parse(text) };
}

async function waitReady(port: number): Promise<void> {
  assert.ok(await eventually(() => isReady(port), 30_000), `nothing ready on port ${port}`);
}

/** A scenario with `orders` inserted and bootstrapped; disposing drops its database. */
async function bootstrapped(prefix: string, orders: Document[]) {
  const s = scenario(prefix);
  const mongo = await mongoCollection(s);
  await mongo.orders.insertMany(orders);
  await prepare(s);
  await orderstatsOk(["--mode=bootstrap", ...stackFlags(s), "--bad-records-file=/dev/null"]);
  return { s, orders: mongo.orders, [Symbol.asyncDispose]: () => mongo[Symbol.asyncDispose]() };
}

Deno.test({
  name: "serve answers one customer, pages through all, and refuses bad paths and parameters",
  ...LIVE_TEST_OPTIONS,
  async fn() {
    await using scene = await bootstrapped("serve", ORDERS);
    const { s } = scene;
    const port = 18_700 + Math.floor(Math.random() * 200);
    const server = new LiveWorker(stackFlags(s), port, "serve");
    try {
      await waitReady(port);
      const one = await get(port, "/v1/totals/c1");
      assert.equal(one.status, 200);
      assert.match(one.headers.get("content-type")!, /^application\/json/);
      assert.equal(one.body.customer_id, "c1");
      assert.equal(one.body.key, "c1");
      assert.equal(one.body.total, "15");
      assert.ok(!Number.isNaN(Date.parse(one.body.updated_at)), one.body.updated_at);
      assert.equal((await get(port, "/v1/totals/max")).body.total, "9223372036854775807");
      assert.equal((await get(port, "/v1/totals/a%2Fb")).body.total, "7");
      assert.equal((await get(port, `/v1/totals/${encodeURIComponent("x y?")}`)).body.total, "1");
      assert.equal((await get(port, "/v1/totals/%C3%BC")).body.total, "2");
      // "42" and 42 are distinct customers, addressed by key; customer_id keeps its type.
      const text = await get(port, "/v1/totals/42");
      assert.deepEqual([text.body.customer_id, text.body.key, text.body.total], ["42", "42", "1"]);
      const number = await get(port, "/v1/totals/n:42");
      assert.deepEqual([number.body.customer_id, number.body.key, number.body.total], [
        42,
        "n:42",
        "42",
      ]);
      const escaped = await get(port, "/v1/totals/s%3An%3A42");
      assert.deepEqual([escaped.body.customer_id, escaped.body.total], ["n:42", "300"]);

      // Paging: every customer exactly once, pages of at most 3, the last with no cursor.
      const seen = new Map<string, bigint>();
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`;
        const page = await get(port, `/v1/totals?limit=3${query}`);
        assert.equal(page.status, 200, JSON.stringify(page.body));
        assert.ok(page.body.totals.length <= 3);
        for (const row of page.body.totals) {
          assert.ok(!seen.has(row.key), `${row.key} twice`);
          seen.set(row.key, BigInt(row.total));
        }
        cursor = page.body.next_cursor;
        pages++;
      } while (cursor !== null);
      assert.deepEqual(seen, await mongoTotals(scene.orders));
      assert.ok(pages >= 5, `${pages} pages`);
      const all = await get(port, "/v1/totals");
      assert.equal(all.body.totals.length, 15);
      assert.equal(all.body.next_cursor, null);

      const refused: [string, number, string, RequestInit?][] = [
        ["/v1/totals/nobody", 404, "customer_not_found"],
        ["/v1/totals/", 404, "no_route"],
        ["/v1/totals/a/b", 404, "no_route"],
        ["/v1/totals/%E0%A4%A", 400, "bad_customer"],
        ["/v1/totals/c1?x=1", 400, "unknown_parameter"],
        ["/v1/totals?limit=0", 400, "bad_limit"],
        ["/v1/totals?limit=-1", 400, "bad_limit"],
        ["/v1/totals?limit=abc", 400, "bad_limit"],
        ["/v1/totals?limit=1.5", 400, "bad_limit"],
        ["/v1/totals?limit=1001", 400, "bad_limit"],
        ["/v1/totals?limit=", 400, "bad_limit"],
        ["/v1/totals?limit=1&limit=2", 400, "repeated_parameter"],
        ["/v1/totals?cursor=not-a-cursor", 400, "bad_cursor"],
        ["/v1/totals?cursor=", 400, "bad_cursor"],
        ["/v1/totals?page=2", 400, "unknown_parameter"],
        ["/v1/totals", 405, "method_not_allowed", { method: "POST", body: "{}" }],
        ["/v1/totals/c1", 405, "method_not_allowed", { method: "DELETE" }],
      ];
      for (const [path, status, code, init] of refused) {
        const answer = await get(port, path, init);
        assert.equal(answer.status, status, `${path}: ${JSON.stringify(answer.body)}`);
        assert.equal(answer.body.error.code, code, path);
        assert.equal(typeof answer.body.error.message, "string");
      }
      const post = await fetch(`http://127.0.0.1:${port}/v1/totals`, { method: "PUT" });
      await post.body?.cancel();
      assert.equal(post.headers.get("allow"), "GET");
      const other = await fetch(`http://127.0.0.1:${port}/v2/totals`);
      assert.equal(other.status, 404);
      await other.body?.cancel();
      const metrics = await server.metrics();
      assert.equal(metrics.get('orderstats_api_requests_total{route="customer",status="200"}'), 8);
    } finally {
      assert.equal((await server.stop()).code, 0);
    }
  },
});

Deno.test({
  name: "a live worker serves the same routes with --serve-api, and only then",
  ...LIVE_TEST_OPTIONS,
  async fn() {
    await using scene = await bootstrapped("serveapi", ORDERS.slice(0, 2));
    const { s } = scene;
    const plain = startWorker(s);
    const serving = startWorker(s, ["--serve-api"]);
    try {
      await waitReady(plain.port);
      await waitReady(serving.port);
      const answer = await get(serving.port, "/v1/totals/c1");
      assert.deepEqual([answer.status, answer.body.total], [200, "15"]);
      const off = await fetch(`http://127.0.0.1:${plain.port}/v1/totals/c1`);
      assert.equal(off.status, 404);
      await off.body?.cancel();
    } finally {
      await plain.stop();
      await serving.stop();
    }
  },
});
