/** What every local-stack service provides; lib/lifecycle.ts drives them all the same way. @module */
import type { LaunchSpec } from "./process.ts";

/** One port a service listens on. */
export interface ServicePort {
  /** What it is, e.g. `"broker"`. */
  label: string;
  /** Port number on 127.0.0.1. */
  port: number;
  /** Environment variable that overrides it, for messages. */
  envName: string;
}

/** A service of the local stack. */
export interface Service {
  /** Short name: log file `.stack/logs/<name>.log`, pid file `.stack/run/<name>.pid`. */
  name: string;
  /** Its ports; the first is the one clients use. */
  ports: ServicePort[];
  /** Services that must be ready before this one starts. */
  after?: string[];
  /** A string in its command line that is unique to this tree (guards against pid reuse). */
  marker: string;
  /** How long `up` waits for the first successful probe. */
  readyTimeoutMs: number;
  /** How long `down` waits after SIGTERM before SIGKILL. */
  stopGraceMs: number;
  /** Why it cannot start now (e.g. not built yet), or `undefined`. */
  skipReason?(): Promise<string | undefined>;
  /** Downloads or builds what it runs into .cache/; fast when already there. */
  install?(): Promise<void>;
  /** Writes per-start configuration and initialises data under .stack/. */
  prepare?(): Promise<void>;
  /** The command that runs it (in the foreground; the launcher detaches it). */
  command(): Omit<LaunchSpec, "logFile" | "pidFile">;
  /** One readiness check through a real client; throws when not ready. */
  probe(): Promise<void>;
}
