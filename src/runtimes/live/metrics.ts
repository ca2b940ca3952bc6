/**
 * What live mode counts, exposed on `/metrics`.
 *
 * @module
 */
import { Histogram, type Metric, renderMetrics, Series } from "../../util/metrics.ts";
import { ProcessMetrics } from "../../util/process_metrics.ts";
import { retries } from "../../util/retry.ts";
import { throttles } from "../../state/dynamodb/client.ts";
import type { OrderChange } from "../../pipeline/change.ts";
import type { SkipReason } from "../../sources/cdc/mod.ts";
import { BAD_RECORD_KINDS } from "../../util/errors.ts";

/** Every outcome of a message, so each `orderstats_events_total` series exists from the start. */
const OUTCOMES: Record<OrderChange["kind"] | SkipReason, true> = {
  upsert: true,
  patch: true,
  delete: true,
  tombstone: true,
  heartbeat: true,
  transaction_metadata: true,
  update_without_document: true,
  irrelevant_update: true,
};

/** The live runtime's metrics, with the process's; dispose to stop sampling. */
export class LiveMetrics implements Disposable {
  readonly events = new Series(
    "orderstats_events_total",
    "CDC messages by outcome: applied kind (upsert, patch, delete) or skip reason",
    "counter",
    Object.keys(OUTCOMES).map((outcome) => ({ outcome })),
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
    "Messages that could not be decoded or applied, by reason (a bad-record kind)",
    "counter",
    BAD_RECORD_KINDS.map((reason) => ({ reason })),
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
    [{ reason: "ThrottlingError" }, { reason: "TransactionConflict" }],
  );
  readonly ledgerReads = new Series(
    "orderstats_ledger_reads_total",
    "Ledger entries read (strongly consistent) to compute a change; one read unit each on " +
      "DynamoDB for entries up to 4 KB",
    "counter",
  );
  readonly ledgerGuesses = new Series(
    "orderstats_ledger_guesses_total",
    "Ledger entries guessed instead of read: the entry this worker wrote " +
      "(--ledger-cache-entries), or none for an inserted order; a stale guess fails its " +
      "transaction's condition and is read",
    "counter",
  );
  readonly transactionItems = new Series(
    "orderstats_transaction_items_total",
    "Items in ledger transactions (ledger entries plus total updates; two write units each " +
      "on DynamoDB for items up to 1 KB), by outcome: committed or refused",
    "counter",
    [{ outcome: "committed" }, { outcome: "refused" }],
  );
  readonly rebalances = new Series(
    "orderstats_rebalances_total",
    "Consumer-group rebalances this worker took part in",
    "counter",
  );
  readonly lag = new Series(
    "orderstats_consumer_lag",
    "Messages between the group's committed offset and the partition's high watermark",
    "gauge",
    [],
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

  readonly #process = new ProcessMetrics();

  /** Everything `/metrics` shows. */
  all(): Metric[] {
    return [
      this.events,
      this.skippedBeforeHandoff,
      this.stale,
      this.alreadyApplied,
      this.deadLettered,
      this.conflicts,
      this.busy,
      this.ledgerReads,
      this.ledgerGuesses,
      this.transactionItems,
      this.rebalances,
      retries,
      throttles,
      this.lag,
      this.batchSeconds,
      ...this.#process.metrics(),
    ];
  }

  /** Prometheus text. */
  render(): string {
    return renderMetrics(this.all());
  }

  [Symbol.dispose](): void {
    this.#process[Symbol.dispose]();
  }
}
