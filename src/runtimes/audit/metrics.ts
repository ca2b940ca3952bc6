/**
 * The audit's figures as a Prometheus text file (`--audit-metrics-file`), for cron jobs
 * whose results node_exporter's textfile collector (or similar) picks up.
 *
 * @module
 */
import { renderMetrics, Series } from "../../util/metrics.ts";
import type { AuditSummary } from "./run.ts";

/** Prometheus text for one audit run that finished at `finishedAt`. */
export function auditMetricsText(summary: AuditSummary, finishedAt: Date): string {
  const labels = { pipeline: summary.pipeline };
  const gauge = (name: string, help: string, value: number) => {
    const series = new Series(`orderstats_audit_${name}`, help, "gauge");
    series.set(value, labels);
    return series;
  };
  return renderMetrics([
    gauge("customers", "Customers compared by the last audit", summary.compared),
    gauge("matched", "Customers whose total equals MongoDB's $group", summary.matched),
    gauge("drifted", "Customers whose total still differed after re-checks", summary.drifted),
    gauge("settled_on_recheck", "Differences that settled on a re-read", summary.settledOnRecheck),
    gauge("unkeyed_groups", "$group rows whose customer_id orderstats rejects", summary.unkeyed),
    gauge("duration_seconds", "How long the last audit took", summary.seconds),
    gauge(
      "last_run_timestamp_seconds",
      "When the last audit finished (Unix time)",
      Math.floor(finishedAt.getTime() / 1000),
    ),
  ]);
}

/** Writes `text` to `path` through a temporary file and a rename: readers never see half. */
export async function writeTextAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(temporary, text);
  await Deno.rename(temporary, path);
}
