/**
 * A lease kept alive by its holder: renewed every third of its length, and its `signal`
 * aborts the moment a renewal finds it lost or it ends unrenewed, so a holder that lost
 * it sends no more writes. The bootstrap's claim on its pipeline, a segment's claim and a
 * plan finisher's claim are such leases.
 *
 * @module
 */
import { errorFields, log } from "../util/log.ts";

/** Options for {@link Lease}. */
export interface LeaseOptions {
  /** Extends the lease to `until` (epoch ms); false when the holder lost it. */
  renew: (until: number) => Promise<boolean>;
  leaseMs: number;
  /** When the lease was taken (epoch ms): it ends `leaseMs` later unless renewed. */
  takenAt: number;
  /** The error the signal aborts with: another run took the lease, or it lapsed. */
  lost: (how: "taken" | "lapsed") => Error;
  /** Called after each successful renewal. */
  onRenewed?: () => void;
}

/** A held lease; dispose it to stop renewing. */
export class Lease implements Disposable {
  readonly #controller = new AbortController();
  readonly #renewer: ReturnType<typeof setInterval>;
  #deadline: ReturnType<typeof setTimeout>;
  #disposed = false;

  constructor(private readonly options: LeaseOptions) {
    const { leaseMs, takenAt } = options;
    this.#deadline = setTimeout(() => this.#lapse(), takenAt + leaseMs - Date.now());
    this.#renewer = setInterval(() => void this.renew(), leaseMs / 3);
  }

  /** Aborts when the lease is lost or lapsed; its reason says which. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Stops renewing. */
  [Symbol.dispose](): void {
    this.#disposed = true;
    clearInterval(this.#renewer);
    clearTimeout(this.#deadline);
  }

  /** Renews now (also done on a timer); true when the lease is still held. */
  async renew(): Promise<boolean> {
    if (this.signal.aborted) return false;
    const sentAt = Date.now();
    try {
      const renewed = await this.options.renew(sentAt + this.options.leaseMs);
      if (this.#disposed) return renewed; // finished meanwhile: no timer may outlive the run
      if (!renewed) {
        this.#lose("taken");
        return false;
      }
      clearTimeout(this.#deadline);
      this.#deadline = setTimeout(() => this.#lapse(), sentAt + this.options.leaseMs - Date.now());
      this.options.onRenewed?.();
      return true;
    } catch (error) {
      // The lease deadline decides; a later renewal may still get through.
      log("warn", "could not renew a bootstrap lease", errorFields(error));
      return !this.signal.aborted;
    }
  }

  #lapse(): void {
    this.#lose("lapsed");
  }

  #lose(how: "taken" | "lapsed"): void {
    if (this.signal.aborted) return;
    this[Symbol.dispose]();
    this.#controller.abort(this.options.lost(how));
  }
}
