#!/usr/bin/env bash
# Runs the project's pinned Deno, installing it from npm into .cache/ on first use.
# Usage: scripts/deno.sh <deno args…>
set -euo pipefail
DENO_VERSION=2.9.6
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="$root/.cache/deno-$DENO_VERSION"
bin="$prefix/node_modules/deno/deno"
if [[ ! -x "$bin" ]]; then
  echo "orderstats: installing deno $DENO_VERSION from npm into .cache/ …" >&2
  command -v npm >/dev/null || { echo "orderstats: npm is required to install deno (apt-get install nodejs npm)" >&2; exit 1; }
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error "deno@$DENO_VERSION" >&2
  # The postinstall step may be skipped by npm policy: fall back to the platform package's binary.
  if [[ ! -x "$bin" ]]; then
    bin="$(find "$prefix/node_modules/@deno" -maxdepth 2 -name deno -type f | head -n 1)"
    [[ -n "$bin" ]] || { echo "orderstats: deno binary not found after npm install" >&2; exit 1; }
    chmod +x "$bin"
  fi
fi
exec "$bin" "$@"
