/**
 * mongo-cdc-proxy — TEST SUPPORT ONLY, never for production data.
 *
 * A MongoDB wire-protocol proxy in front of FerretDB (no change streams, no replica set) that
 * makes it look like a one-member replica set with change streams to the official driver.
 * Like MongoDB, a new change stream's first (high-water-mark) token is one tick past the last
 * issued cluster time, so the next write can get exactly that time (see clock.ts).
 * Limits are listed in README.md beside this file.
 *
 * Usage: scripts/deno.sh run -A devstack/mongo-cdc-proxy/main.ts \
 *          --listen 127.0.0.1:27017 --upstream 127.0.0.1:27018 [--max-events 1000000] [--verbose]
 */
import { parseArgs } from "node:util";
import { ChangeStreams } from "./change_streams.ts";
import { ChangeLog } from "./changelog.ts";
import { LogicalClock } from "./clock.ts";
import { ClientConnection, type ProxyContext } from "./connection.ts";
import { WriteInterceptor } from "./writes.ts";

export interface ProxyOptions {
  listen: string;
  upstream: string;
  /** @default 1_000_000 */
  maxEvents?: number;
  verbose?: boolean;
  signal?: AbortSignal;
}

function hostPort(s: string, flag: string): { hostname: string; port: number } {
  const m = /^(.+):(\d+)$/.exec(s);
  if (!m) throw new TypeError(`Cannot parse ${flag} "${s}": expected host:port`);
  return { hostname: m[1], port: Number(m[2]) };
}

/** Starts the proxy; resolves when `signal` aborts and the listener is closed. */
export async function runProxy(options: ProxyOptions): Promise<void> {
  const listen = hostPort(options.listen, "--listen");
  const log = new ChangeLog(new LogicalClock(), options.maxEvents ?? 1_000_000);
  const ctx: ProxyContext = {
    listenHost: options.listen,
    upstream: hostPort(options.upstream, "--upstream"),
    log,
    writes: new WriteInterceptor(log),
    streams: new ChangeStreams(log),
    verbose: options.verbose ?? false,
  };
  const listener = Deno.listen({ ...listen, transport: "tcp" });
  options.signal?.addEventListener("abort", () => listener.close(), { once: true });
  console.error(
    `mongo-cdc-proxy (test support): ${options.listen} -> FerretDB ${options.upstream}`,
  );
  try {
    for await (const conn of listener) {
      conn.setNoDelay(true);
      new ClientConnection(conn, ctx).serve();
    }
  } catch (e) {
    if (!options.signal?.aborted) throw e;
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      listen: { type: "string", default: "127.0.0.1:27017" },
      upstream: { type: "string", default: "127.0.0.1:27018" },
      "max-events": { type: "string", default: "1000000" },
      verbose: { type: "boolean", default: false },
    },
  });
  const controller = new AbortController();
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(sig, () => controller.abort());
  }
  await runProxy({
    listen: values.listen,
    upstream: values.upstream,
    maxEvents: Number(values["max-events"]),
    verbose: values.verbose,
    signal: controller.signal,
  });
  Deno.exit(0);
}
