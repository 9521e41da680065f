#!/usr/bin/env bash
# Benchmarks briefd against what an admin would use instead (issues 10 and 16): builds briefd and
# bench/cmd/benchmail, then benchmail generates two backlogs of realistic submissions — one with
# generated PDFs, one drawing half of its PDFs from the real-world files of ../shared/corpus/pdf that
# poppler opens and that are at least 100 KB (-corpus DIR; -corpus '' skips it; a missing folder is
# reported and only the generated backlog is measured, -need-corpus makes it an error) — loads them into
# a Dovecot it starts on loopback, and measures on each `briefd poll`, a plain go-imap fetch, mbsync,
# and mbsync + munpack + qpdf --check (median of 3 runs each, interleaved), then the IDLE latency of
# `briefd run`, and status (also forwarded to a running daemon) / dashboard over a store of 100,000
# receipts. Results: stdout and bench/out/results.md.
#
#   bench/run.sh [benchmail flags]      e.g. bench/run.sh -n 100 -runs 1 -receipts 10000
#
# Needs root (Dovecot drops to its own users), dovecot-imapd, isync, mpack, qpdf. Bounded by
# BENCH_TIMEOUT (default 40m); benchmail stops Dovecot and removes its temp folder on exit or signal.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
for p in dovecot doveadm mbsync munpack qpdf; do
  command -v "$p" >/dev/null || [ -x "/usr/sbin/$p" ] || {
    echo "bench: $p is missing (apt-get install -y dovecot-imapd isync mpack qpdf)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "bench: run as root (Dovecot drops to its own users)" >&2; exit 1; }
bin=$(mktemp -d "${TMPDIR:-/tmp}/briefd-bench-bin-XXXXXX")
cleanup() { rm -rf "$bin"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
$GO build -o "$bin/briefd" ./cmd/briefd
$GO build -o "$bin/benchmail" ./bench/cmd/benchmail
mkdir -p bench/out
# timeout sends TERM first: benchmail cleans up; KILL 30 s later if it does not.
timeout -k 30 "${BENCH_TIMEOUT:-40m}" "$bin/benchmail" run -briefd "$bin/briefd" -out bench/out "$@"
