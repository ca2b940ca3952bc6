/**
 * Region and credentials come from the AWS SDK's default chains, as orderstats runs them
 * (a child process with a controlled environment). AWS itself cannot be reached here, so a
 * recording proxy in front of DynamoDB Local reads each request's SigV4 `Authorization`
 * header, which names the access key and the region the request was signed for.
 */
import assert from "node:assert/strict";
import { ddbEndpoint, uniqueName } from "../../devstack/lib/env.ts";
import { orderstats, orderstatsOk } from "../../devstack/lib/scenario.ts";

/** Forwards to DynamoDB Local and keeps the credential scope of every request. */
function recordingProxy() {
  const scopes: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    if (new URL(req.url).pathname === "/container-credentials") {
      return Response.json({
        AccessKeyId: "AKIDCONTAINER",
        SecretAccessKey: "container-secret",
        Token: "container-token",
        Expiration: new Date(Date.now() + 3_600_000).toISOString(),
      });
    }
    const match = /Credential=([^/]+)\/\d+\/([^/]+)\/dynamodb\//.exec(
      req.headers.get("authorization") ?? "",
    );
    scopes.push(match ? `${match[1]}@${match[2]}` : "unsigned");
    const headers = new Headers(req.headers);
    headers.delete("host");
    return await fetch(ddbEndpoint(), { method: req.method, headers, body: await req.text() });
  });
  const url = `http://127.0.0.1:${server.addr.port}`;
  return {
    url,
    scopes,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

Deno.test("DynamoDB region and credentials come from the AWS SDK's default chains", async () => {
  await using proxy = recordingProxy();
  const table = uniqueName("aws-chain");
  const dir = await Deno.makeTempDir();
  // No shared files unless a case writes them; no instance metadata lookups.
  const base = {
    AWS_CONFIG_FILE: `${dir}/config`,
    AWS_SHARED_CREDENTIALS_FILE: `${dir}/credentials`,
    AWS_EC2_METADATA_DISABLED: "true",
  };
  await Deno.writeTextFile(
    `${dir}/profiles-config`,
    "[profile ops]\nregion = eu-north-1\n",
  );
  await Deno.writeTextFile(
    `${dir}/profiles-credentials`,
    "[ops]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = profile-secret\n",
  );
  const keys = { AWS_ACCESS_KEY_ID: "AKIDENV", AWS_SECRET_ACCESS_KEY: "env-secret" };
  const endpoint = `--ddb-endpoint=${proxy.url}`;
  await orderstatsOk(["--mode=setup", `--ddb-table=${table}`, endpoint], base);

  const cases: [string, string[], Record<string, string>, string][] = [
    ["loopback endpoint, nothing configured: placeholders", [endpoint], {}, "local@us-east-1"],
    ["AWS_ENDPOINT_URL_DYNAMODB as the SDK reads it", [], {
      AWS_ENDPOINT_URL_DYNAMODB: proxy.url,
    }, "local@us-east-1"],
    ["AWS_ENDPOINT_URL for every service", [], { AWS_ENDPOINT_URL: proxy.url }, "local@us-east-1"],
    ["--ddb-endpoint wins over AWS_ENDPOINT_URL_DYNAMODB", [endpoint], {
      AWS_ENDPOINT_URL_DYNAMODB: "http://127.0.0.1:1",
    }, "local@us-east-1"],
    ["environment keys and AWS_REGION", [endpoint], {
      ...keys,
      AWS_REGION: "eu-west-3",
    }, "AKIDENV@eu-west-3"],
    [
      "AWS_DEFAULT_REGION",
      [endpoint],
      { ...keys, AWS_DEFAULT_REGION: "ap-south-1" },
      "AKIDENV@ap-south-1",
    ],
    ["--ddb-region wins", [endpoint, "--ddb-region=sa-east-1"], {
      ...keys,
      AWS_REGION: "eu-west-3",
    }, "AKIDENV@sa-east-1"],
    ["a named profile's region and keys", [endpoint], {
      AWS_PROFILE: "ops",
      AWS_CONFIG_FILE: `${dir}/profiles-config`,
      AWS_SHARED_CREDENTIALS_FILE: `${dir}/profiles-credentials`,
    }, "AKIDPROFILE@eu-north-1"],
    ["a container role", [endpoint], {
      AWS_CONTAINER_CREDENTIALS_FULL_URI: `${proxy.url}/container-credentials`,
      AWS_REGION: "eu-central-1",
    }, "AKIDCONTAINER@eu-central-1"],
  ];
  for (const [name, flags, env, scope] of cases) {
    proxy.scopes.length = 0;
    const run = await orderstats(["--mode=totals", `--ddb-table=${table}`, ...flags], {
      ...base,
      ...env,
    });
    assert.equal(run.code, 0, `${name}: ${run.stderr}`);
    assert.ok(proxy.scopes.length > 0, `${name}: no request reached the endpoint`);
    assert.deepEqual(new Set(proxy.scopes), new Set([scope]), name);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("without an endpoint, a missing region or missing credentials is bad configuration (2)", async () => {
  const base = {
    AWS_CONFIG_FILE: "/nonexistent/config",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials",
    AWS_EC2_METADATA_DISABLED: "true",
  };
  const noRegion = await orderstats(["--mode=totals"], base);
  assert.equal(noRegion.code, 2, noRegion.stderr);
  assert.match(noRegion.stderr, /no AWS region.*--ddb-region.*AWS_REGION/);
  const noKeys = await orderstats(["--mode=totals"], { ...base, AWS_REGION: "eu-west-1" });
  assert.equal(noKeys.code, 2, noKeys.stderr);
  assert.match(noKeys.stderr, /no AWS credentials.*AWS_ACCESS_KEY_ID.*AWS_PROFILE/);
});
