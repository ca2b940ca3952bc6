#!/usr/bin/env bash
# The orderstats demo: the whole product on the local stack, checked against MongoDB's $group.
# Installs the pinned Deno (scripts/deno.sh), then devstack/demo/main.ts starts the stack, seeds
# orders, runs setup, the Debezium relay, bootstrap and live mode, changes orders and compares
# the totals. Ends with "match" (exit 0) or the differences (exit 1). The stack stays up:
# `scripts/deno.sh task stack:down` stops it. Options: scripts/demo.sh --help
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
exec scripts/deno.sh run -A devstack/demo/main.ts "$@"
