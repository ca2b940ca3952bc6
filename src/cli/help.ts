/**
 * `--help` text, generated from the option table: options grouped by the modes that use
 * them, every line within 80 columns.
 *
 * @module
 */
import { type Mode, MODES, OPTIONS, type OptionSpec } from "./options.ts";
import { EXIT_CODES } from "./exit_codes.ts";

/** Terminal width the text fits. */
export const HELP_WIDTH = 80;

/** Words of `text` in lines of at most `width` columns, each starting with `indent`. */
function wrap(text: string, indent: string, width = HELP_WIDTH): string[] {
  const lines: string[] = [];
  let line = indent;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line.length > indent.length && line.length + 1 + word.length > width) {
      lines.push(line);
      line = indent;
    }
    line += line.length > indent.length ? ` ${word}` : word;
  }
  if (line.length > indent.length) lines.push(line);
  return lines;
}

/** "Options for every mode", "Options for live and setup", … */
function heading(modes: readonly Mode[]): string {
  if (modes.length === 0) return "Options for every mode:";
  const names = modes.length === 1
    ? modes[0]
    : `${modes.slice(0, -1).join(", ")} and ${modes[modes.length - 1]}`;
  return `Options for ${names}:`;
}

function describe(option: OptionSpec): string[] {
  const short = option.short === undefined ? "" : `-${option.short}, `;
  const value = `<${option.choices ? option.choices.join("|") : option.kind}>`;
  const flag = option.envOnly
    ? `${option.env}=${value} (environment only)`
    : option.kind === "boolean"
    ? `--${option.name}`
    : `--${option.name}=${value}`;
  const facts = [
    option.env && !option.envOnly ? `env ${option.env}` : "",
    option.default !== undefined && option.kind !== "boolean" ? `default ${option.default}` : "",
  ].filter(Boolean).join(", ");
  return [
    ...wrap(`${short}${flag}`, "  "),
    ...wrap(`${option.help}${facts ? ` [${facts}]` : ""}`, "      "),
  ];
}

/** Options grouped by the exact set of modes using them, in the order of {@link MODES}. */
function groups(): [readonly Mode[], OptionSpec[]][] {
  const key = (modes: readonly Mode[]) => MODES.filter((m) => modes.includes(m)).join(",");
  const byModes = new Map<string, [readonly Mode[], OptionSpec[]]>();
  for (const option of OPTIONS) {
    const group = byModes.get(key(option.modes)) ?? [option.modes, []];
    group[1].push(option);
    byModes.set(key(option.modes), group);
  }
  const rank = (modes: readonly Mode[]) =>
    modes.length === 0 ? -1 : Math.min(...modes.map((m) => MODES.indexOf(m)));
  return [...byModes.values()].sort(([a], [b]) => rank(a) - rank(b) || a.length - b.length);
}

/** The full help text. */
export function helpText(): string {
  const lines = [
    "orderstats — exact per-customer order totals in DynamoDB, from MongoDB and CDC",
    "",
    `Usage: orderstats --mode=${MODES.join("|")} [options]`,
    "",
    "  setup      create the DynamoDB tables (with --create-topic, the Kafka topic)",
    "  bootstrap  capture a change-stream position, scan the collection, write exact",
    "             totals and the order ledger, then the handoff row",
    "  live       consume the CDC topic after the handoff and keep totals exact",
    "  totals     print totals as JSON lines (--customer for one)",
    "  serve      the read API: GET /v1/totals/{customer} and",
    "             GET /v1/totals?limit=&cursor= (docs/api.md); live workers serve it",
    "             too with --serve-api",
    "  audit      compare every total with MongoDB's $group while live runs; one JSON",
    "             summary line on stdout, exit 7 on drift (--customer for one)",
    "",
    "Flags win over environment variables, which win over defaults.",
  ];
  for (const [modes, options] of groups()) {
    lines.push("", heading(modes), ...options.flatMap(describe));
  }
  lines.push("", "Exit codes:");
  for (const [code, meaning] of Object.entries(EXIT_CODES)) {
    const [first, ...rest] = wrap(meaning, "     ");
    lines.push(`  ${code}  ${first.trimStart()}`, ...rest);
  }
  return lines.join("\n");
}
