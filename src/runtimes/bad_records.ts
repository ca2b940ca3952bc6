/**
 * Where records that cannot be decoded go during a bootstrap: a JSON-lines report with
 * the record's position and reason, so nothing is dropped silently.
 *
 * @module
 */
import { EJSON } from "bson";
import type { BadRecordError, BadRecordKind } from "../util/errors.ts";
import { log } from "../util/log.ts";

/** Appends bad records to a file, opened on the first one, and counts them by kind. */
export class BadRecordFile {
  #file: Deno.FsFile | undefined;
  /** One open, however many segments of the process write their first bad record at once. */
  #opening: Promise<Deno.FsFile> | undefined;
  #count = 0;
  readonly #byKind: Partial<Record<BadRecordKind, number>> = {};
  readonly #encoder = new TextEncoder();

  constructor(readonly path: string) {}

  /** Bad records written so far. */
  get count(): number {
    return this.#count;
  }

  /** Bad records written so far, by kind (kinds with none left out). */
  get byKind(): Partial<Record<BadRecordKind, number>> {
    return { ...this.#byKind };
  }

  /** Records one bad record (the document as canonical extended JSON). */
  async write(error: BadRecordError, document: unknown): Promise<void> {
    this.#opening ??= Deno.open(this.path, { create: true, write: true, truncate: true });
    this.#file = await this.#opening;
    this.#count++;
    this.#byKind[error.kind] = (this.#byKind[error.kind] ?? 0) + 1;
    const { where, kind, reason } = error;
    log("warn", "bad record", { where, kind, reason, file: this.path });
    const line = JSON.stringify({
      where,
      kind,
      reason,
      document: EJSON.serialize(document, { relaxed: false }),
    });
    await this.#file.write(this.#encoder.encode(line + "\n"));
  }

  /** Closes the file (no-op when nothing was written). */
  close(): void {
    this.#file?.close();
    this.#file = undefined;
    this.#opening = undefined;
  }
}
