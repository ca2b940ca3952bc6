/**
 * `--help` text, generated from the option table.
 *
 * @module
 */
import { MODES, OPTIONS } from "./options.ts";
import { EXIT_CODES } from "./exit_codes.ts";

/** The full help text. */
export function helpText(): string {
  const lines = [
    "orderstats — exact per-customer order totals in DynamoDB from MongoDB + Kafka CDC",
    "",
    `Usage: orderstats --mode=${MODES.join("|")} [options]`,
    "",
    "  setup      create the DynamoDB table(s) (and with --create-topic the Kafka topic)",
    "  bootstrap  capture a change-stream resume token, scan the collection, write exact",
    "             totals and the order ledger, then the handoff row",
    "  live       consume the CDC topic after the handoff and keep totals exact",
    "  totals     print totals as JSON lines (--customer for one)",
    "  serve      the read API: GET /v1/totals/{customer}, GET /v1/totals?limit=&cursor=",
    "             (docs/api.md); live workers serve it too with --serve-api",
    "  audit      compare every total with MongoDB's $group while live runs; one JSON",
    "             summary line on stdout, exit 7 on drift (--customer for one)",
    "",
    "Options (flags win over environment variables):",
  ];
  for (const o of OPTIONS) {
    const flag = o.envOnly
      ? `${o.env}=<${o.kind}> (environment only)`
      : o.kind === "boolean"
      ? `--${o.name}`
      : `--${o.name}=<${o.kind}>`;
    const extra = [
      o.env && !o.envOnly ? `env ${o.env}` : "",
      o.default !== undefined ? `default ${o.default}` : "",
    ]
      .filter(Boolean).join(", ");
    lines.push(`  ${flag}`, `      ${o.help}${extra ? ` [${extra}]` : ""}`);
  }
  lines.push("", "Exit codes:");
  for (const [code, meaning] of Object.entries(EXIT_CODES)) lines.push(`  ${code}  ${meaning}`);
  return lines.join("\n");
}
