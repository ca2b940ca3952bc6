/**
 * DEV/TEST ONLY. The relay's source position: the last change stream resume token it has
 * produced to Kafka, kept in a small JSON file written atomically (temp file + rename).
 *
 * @module
 */

/** A change stream resume token (`{_data: "<hex>"}`). */
export type ResumeToken = Record<string, unknown>;

/** The token saved in `path`, or `undefined` when there is no file yet. */
export async function loadResumeToken(path: string): Promise<ResumeToken | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  const state = JSON.parse(text) as { resumeToken?: ResumeToken };
  if (typeof state.resumeToken?._data !== "string") {
    throw new TypeError(`Cannot resume from ${path}: it has no resumeToken._data`);
  }
  return state.resumeToken;
}

/** Saves `token` to `path` so a crash leaves either the old or the new file, never half. */
export async function saveResumeToken(path: string, token: ResumeToken): Promise<void> {
  const temp = `${path}.tmp`;
  const state = { resumeToken: token, savedAt: new Date().toISOString() };
  await Deno.writeTextFile(temp, `${JSON.stringify(state)}\n`);
  await Deno.rename(temp, path);
}

/**
 * A token from the command line: `{"_data": "…"}` JSON or the bare `_data` hex string.
 */
export function parseResumeToken(text: string): ResumeToken {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]+$/.test(trimmed)) return { _data: trimmed };
  const token = JSON.parse(trimmed) as ResumeToken;
  if (typeof token?._data !== "string") {
    throw new RangeError(
      `Cannot use '${text}' as a resume token: expected {"_data": "<hex>"} or hex`,
    );
  }
  return token;
}
