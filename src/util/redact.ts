/**
 * Keeps secrets out of logs and error messages.
 *
 * @module
 */

/** Replaces the password of a URI (`scheme://user:pass@host`) with `***`. */
export function redactUri(uri: string): string {
  return uri.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*):[^@/]*@/i, "$1:***@");
}
