/**
 * docs/production.md's IAM policies grant exactly the DynamoDB actions the code calls: every
 * `new …Command(` of the DynamoDB client in src/ (a transaction's `Put`/`Update`/`Delete`/
 * `ConditionCheck` items counted as the actions DynamoDB authorizes them as) against the
 * actions the policies list. A new call without its action, or an action nothing calls, fails.
 */
import assert from "node:assert/strict";
import { OPTIONS } from "../../src/cli/options.ts";

const ROOT = new URL("../../", import.meta.url);
const doc = await Deno.readTextFile(new URL("docs/production.md", ROOT));

/** What DynamoDB authorizes each transaction item as. */
const TRANSACTION_ITEMS: Record<string, string> = {
  Put: "PutItem",
  Update: "UpdateItem",
  Delete: "DeleteItem",
  ConditionCheck: "ConditionCheckItem",
};

/** Every .ts file under `dir`. */
async function* sources(dir: URL): AsyncGenerator<URL> {
  for await (const entry of Deno.readDir(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) yield* sources(url);
    else if (entry.name.endsWith(".ts")) yield url;
  }
}

async function actionsInCode(): Promise<Set<string>> {
  const actions = new Set<string>();
  for await (const path of sources(new URL("src/", ROOT))) {
    const text = await Deno.readTextFile(path);
    if (!text.includes('"@aws-sdk/client-dynamodb"')) continue;
    for (const [, command] of text.matchAll(/new (\w+)Command\(/g)) {
      if (command !== "TransactWriteItems") actions.add(`dynamodb:${command}`);
    }
    if (/waitUntilTableExists\(/.test(text)) actions.add("dynamodb:DescribeTable");
    if (text.includes("new TransactWriteItemsCommand(")) {
      for (const [, item] of text.matchAll(/\b(Put|Update|Delete|ConditionCheck): \{/g)) {
        actions.add(`dynamodb:${TRANSACTION_ITEMS[item]}`);
      }
    }
  }
  return actions;
}

interface Statement {
  Sid: string;
  Action: string[];
  Resource: string[];
}

function policyStatements(): Statement[] {
  const blocks = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map(([, body]) => JSON.parse(body));
  return blocks.filter((b) => b.Version === "2012-10-17").flatMap((b) => b.Statement);
}

Deno.test("docs/production.md's IAM policies grant exactly the DynamoDB actions the code calls", async () => {
  const code = await actionsInCode();
  const statements = policyStatements();
  assert.deepEqual(statements.map((s) => s.Sid).sort(), ["OrderstatsSetup", "OrderstatsWorkers"]);
  const granted = new Set(statements.flatMap((s) => s.Action));
  assert.deepEqual([...code].filter((a) => !granted.has(a)), [], "called but not granted");
  assert.deepEqual([...granted].filter((a) => !code.has(a)), [], "granted but never called");
  const setup = statements.find((s) => s.Sid === "OrderstatsSetup")!;
  assert.deepEqual(setup.Action.sort(), ["dynamodb:CreateTable", "dynamodb:DescribeTable"]);
});

Deno.test("the IAM policies name the totals, ledger and dedup tables, nothing wider", () => {
  for (const statement of policyStatements()) {
    assert.deepEqual(statement.Resource.map((arn) => arn.split("table/")[1]).sort(), [
      "order_totals",
      "order_totals_dedup",
      "order_totals_ledger",
    ], statement.Sid);
    for (const arn of statement.Resource) {
      assert.match(arn, /^arn:aws:dynamodb:REGION:ACCOUNT:table\/[A-Za-z0-9_.-]+$/);
    }
  }
});

Deno.test("every variable docs/production.md sets is one orderstats or the AWS SDK reads", () => {
  const known = new Set(OPTIONS.flatMap((o) => o.env ? [o.env] : []));
  const settings = [...doc.matchAll(/^([A-Z][A-Z0-9_]+)=/gm)].map(([, name]) => name);
  assert.ok(settings.length > 10, "the worked configurations set variables");
  for (const name of settings) {
    assert.ok(known.has(name) || name.startsWith("AWS_"), `${name} is not an option's variable`);
  }
});

Deno.test("README points to docs/production.md", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  assert.match(readme, /\(docs\/production\.md\)/);
});
