/**
 * Process metrics for `/metrics`: memory, CPU time, event-loop delay, start time and
 * build info, under the names Prometheus client libraries use.
 *
 * @module
 */
import process from "node:process";
import { Histogram, type Metric, Sampled, Series } from "./metrics.ts";
import { buildInfo } from "./build.ts";

/** How often the event loop is asked to run a timer, to see how late it runs. */
const PROBE_MS = 100;

/** The process's metrics; samples event-loop delay until disposed. */
export class ProcessMetrics implements Disposable {
  readonly #startSeconds = Date.now() / 1000;
  readonly #loopDelay = new Histogram(
    "orderstats_event_loop_delay_seconds",
    `How late a ${PROBE_MS} ms timer fires: time the event loop was busy or blocked`,
    [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
  );
  readonly #timer: ReturnType<typeof setInterval>;

  constructor() {
    let expected = performance.now() + PROBE_MS;
    this.#timer = setInterval(() => {
      const now = performance.now();
      this.#loopDelay.observe(Math.max(0, now - expected) / 1000);
      expected = now + PROBE_MS;
    }, PROBE_MS);
    // Sampling must never keep the process alive.
    this.#timer.unref();
  }

  /** The metrics to render. */
  metrics(): Metric[] {
    const build = new Series(
      "orderstats_build_info",
      "Always 1; the labels say which orderstats and runtime are running",
      "gauge",
      [],
    );
    build.set(1, buildInfo());
    const memory = (key: keyof Deno.MemoryUsage) => () => Deno.memoryUsage()[key];
    return [
      build,
      new Sampled("process_cpu_seconds_total", "User and system CPU time", "counter", () => {
        const { user, system } = process.cpuUsage();
        return (user + system) / 1e6;
      }),
      new Sampled("process_resident_memory_bytes", "Resident set size", "gauge", memory("rss")),
      new Sampled("process_heap_bytes", "V8 heap in use", "gauge", memory("heapUsed")),
      // Where RSS beyond the heap in use goes: heap V8 reserved, or buffers it tracks outside it.
      new Sampled("process_heap_total_bytes", "V8 heap reserved", "gauge", memory("heapTotal")),
      new Sampled(
        "process_external_memory_bytes",
        "Memory V8 tracks outside its heap (ArrayBuffers, Kafka buffers)",
        "gauge",
        memory("external"),
      ),
      new Sampled(
        "process_start_time_seconds",
        "Start time, seconds since the Unix epoch",
        "gauge",
        () => this.#startSeconds,
      ),
      this.#loopDelay,
    ];
  }

  [Symbol.dispose](): void {
    clearInterval(this.#timer);
  }
}
