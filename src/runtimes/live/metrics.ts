/**
 * What live mode counts, exposed on `/metrics`.
 *
 * @module
 */
import { Histogram, renderMetrics, Series } from "../../util/metrics.ts";

/** The live runtime's metrics. */
export class LiveMetrics {
  readonly events = new Series(
    "orderstats_events_total",
    "CDC messages by outcome: applied kind (upsert, patch, delete) or skip reason",
    "counter",
  );
  readonly skippedBeforeHandoff = new Series(
    "orderstats_skipped_before_handoff_total",
    "Changes the snapshot covers: exact cluster time before the handoff T0 (also in " +
      "events_total), or below the topic offsets the handoff recorded",
    "counter",
  );
  readonly stale = new Series(
    "orderstats_stale_changes_total",
    "Changes not newer than the ledger entry (duplicates, replays); also in events_total",
    "counter",
  );
  readonly alreadyApplied = new Series(
    "orderstats_already_applied_total",
    "Messages skipped because the dedup table says their offset is already applied",
    "counter",
  );
  readonly deadLettered = new Series(
    "orderstats_dead_lettered_total",
    "Messages that could not be decoded or applied",
    "counter",
  );
  readonly conflicts = new Series(
    "orderstats_ledger_conflicts_total",
    "Transactions retried because a ledger entry changed under them",
    "counter",
  );
  readonly busy = new Series(
    "orderstats_ledger_busy_total",
    "Transactions DynamoDB kept refusing through their retries (throttled, or in conflict " +
      "with another transaction), put back for a later round, by reason",
    "counter",
  );
  readonly lag = new Series(
    "orderstats_consumer_lag",
    "Messages between the last processed offset and the partition's high watermark",
    "gauge",
  );
  readonly batchSeconds = new Histogram(
    "orderstats_batch_seconds",
    "Time to apply one Kafka batch and make it durable",
  );

  /** A few totals for the periodic progress log line. */
  summary(): Record<string, number> {
    return {
      events: this.events.total(),
      skippedBeforeHandoff: this.skippedBeforeHandoff.total(),
      stale: this.stale.total(),
      alreadyApplied: this.alreadyApplied.total(),
      deadLettered: this.deadLettered.total(),
      busy: this.busy.total(),
      lag: this.lag.total(),
    };
  }

  /** Prometheus text. */
  render(): string {
    return renderMetrics([
      this.events,
      this.skippedBeforeHandoff,
      this.stale,
      this.alreadyApplied,
      this.deadLettered,
      this.conflicts,
      this.busy,
      this.lag,
      this.batchSeconds,
    ]);
  }
}
