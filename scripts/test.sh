#!/usr/bin/env bash
# The project's test command (README, CI): format/lint/type checks and JSDoc examples, the local
# stack, every test.
# Installs what it needs (deno from npm, the stack's services into .cache/). With CI=true the
# stack is stopped at the end; otherwise it is left running for the next run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

summary=""
finish() {
  local rc=$?
  if [[ "${CI:-}" == "true" ]]; then
    echo "== stack:down (CI)"
    scripts/deno.sh task stack:down || true
  fi
  # Last line of the run: Deno's "ok | 89 passed | 0 failed (16s)" as a plain summary.
  if [[ -n "$summary" ]]; then echo "tests: $summary"; fi
  exit "$rc"
}
trap finish EXIT

echo "== deno $(scripts/deno.sh --version | head -n 1)"
echo "== deno task check"
scripts/deno.sh task check
echo "== deno task stack:up"
scripts/deno.sh task stack:up
echo "== deno test -A tests/"
out="$(mktemp)"
status=0
scripts/deno.sh test -A tests/ 2>&1 | tee "$out" || status=$?
summary="$(sed 's/\x1b\[[0-9;]*m//g' "$out" | grep -Eo '[0-9]+ passed \| [0-9]+ failed' |
  tail -n 1 | sed 's/ | /, /' || true)"
rm -f "$out"
if [[ $status -ne 0 ]]; then
  echo "== tests failed; stack status (service logs in .stack/logs/):"
  scripts/deno.sh task stack:status || true
elif [[ -z "$summary" ]]; then
  echo "== no test summary in deno's output" >&2
  status=1
fi
exit "$status"
