/**
 * A bootstrap's claim on its pipeline: the handoff row in status `running`, owned by one
 * run id and kept alive by a lease its holder renews. Claiming is conditional on the row
 * (absent, left by a finished or failed run, or by a run whose lease ran out long ago),
 * every renewal is conditional on the run id, and the holder's `signal` aborts the moment
 * the claim is lost or the lease could not be renewed in time: a run that lost its claim
 * sends no more writes.
 *
 * @module
 */
import type { Handoff, StateStore } from "../state/store.ts";
import { OrderstatsError } from "../util/errors.ts";
import { Lease } from "./lease.ts";

/** A bootstrap refused to run, or lost its claim on the pipeline to another run. */
export class StateConflictError extends OrderstatsError {
  constructor(message: string) {
    super("STATE_CONFLICT", message);
  }
}

/** How long a claim lives without renewal. @default 30 s */
export const DEFAULT_LEASE_MS = 30_000;

/** Options for {@link BootstrapClaim.acquire}. */
export interface ClaimOptions {
  /** Take over state a live worker advanced. */
  force: boolean;
  /**
   * Lease length. The holder renews it every third of it and stops writing when it ends;
   * another run may take over a claim only a further lease after its end, which leaves
   * time for clock skew and for requests sent before the end to land.
   */
  leaseMs?: number;
}

/** The pipeline held by one bootstrap run; dispose it to stop renewing. */
export class BootstrapClaim implements Disposable {
  readonly #lease: Lease;

  private constructor(
    store: StateStore,
    readonly handoff: Handoff,
    leaseMs: number,
    takenAt: number,
  ) {
    const { pipeline, runId } = handoff;
    this.#lease = new Lease({
      renew: (until) => store.renewClaim(pipeline, runId, until),
      leaseMs,
      takenAt,
      lost: (how) =>
        new StateConflictError(
          `Bootstrap ${runId} of pipeline "${pipeline}" stopped: ${
            how === "taken"
              ? `another bootstrap took over pipeline "${pipeline}"`
              : `its claim was not renewed within ${leaseMs / 1000}s`
          }. Its partial writes are not marked complete; the run that holds the claim ` +
            "rebuilds them.",
        ),
    });
  }

  /**
   * Claims the pipeline with `handoff` (status `running`), or throws
   * {@link StateConflictError} naming who holds it. The claim is the run's first write.
   */
  static async acquire(
    store: StateStore,
    handoff: Handoff,
    { force, leaseMs = DEFAULT_LEASE_MS }: ClaimOptions,
  ): Promise<BootstrapClaim> {
    const claimedAt = Date.now();
    const claimed = await store.claimPipeline(
      { ...handoff, leaseUntil: claimedAt + leaseMs },
      { overLive: force, staleBefore: claimedAt - leaseMs },
    );
    if (!claimed) {
      throw refusal(handoff.pipeline, await store.readHandoff(handoff.pipeline), leaseMs);
    }
    return new BootstrapClaim(store, handoff, leaseMs, claimedAt);
  }

  /**
   * Shares the claim of a running plan (a segmented bootstrap's processes all renew it):
   * undefined when the plan's row is no longer `running` under its run id.
   */
  static async join(
    store: StateStore,
    handoff: Handoff,
    leaseMs = DEFAULT_LEASE_MS,
  ): Promise<BootstrapClaim | undefined> {
    const joinedAt = Date.now();
    if (!await store.renewClaim(handoff.pipeline, handoff.runId, joinedAt + leaseMs)) {
      return undefined;
    }
    return new BootstrapClaim(store, handoff, leaseMs, joinedAt);
  }

  /** Aborts when the claim is lost or its lease lapsed; its reason says which. */
  get signal(): AbortSignal {
    return this.#lease.signal;
  }

  /** Stops renewing (the row keeps whatever status was written last). */
  [Symbol.dispose](): void {
    this.#lease[Symbol.dispose]();
  }
}

/** Why a bootstrap could not claim `pipeline` from the row `holder`. */
export function refusal(pipeline: string, holder: Handoff | undefined, leaseMs: number) {
  if (holder?.status === "live") {
    return new StateConflictError(
      `Refusing to bootstrap pipeline "${pipeline}": live mode has applied changes ` +
        `since ${holder.liveSince}. Stop the live workers and pass --force to rebuild.`,
    );
  }
  if (holder?.status !== "running") {
    return new StateConflictError(
      `Refusing to bootstrap pipeline "${pipeline}": another bootstrap changed its handoff ` +
        "row while this one claimed it; run it again",
    );
  }
  const takeover = holder.leaseUntil === undefined
    ? ""
    : `; if it crashed, a new bootstrap can take over from ${
      new Date(holder.leaseUntil + leaseMs).toISOString()
    }`;
  return new StateConflictError(
    `Refusing to bootstrap pipeline "${pipeline}": bootstrap ${holder.runId} holds it since ` +
      `${holder.startedAt}. Wait for it to finish${takeover}.`,
  );
}
