#!/usr/bin/env bash
# `make bench-doc`: runs collapse-bench and puts its table (its stdout only; the
# plugin's log lines go to stderr, kept in target/bench/log.txt) into
# docs/BENCHMARKS.md between the bench-table markers, with the date (the table's
# own header names the CPU and its cores).
#   BENCH_ARGS="--quick"   passed to collapse-bench
set -euo pipefail
cd "$(dirname "$0")/.."
. target/deps/env.sh
mkdir -p target/bench
echo "[bench] running collapse-bench ${BENCH_ARGS:-} (log: target/bench/log.txt)" >&2
cargo run --quiet --release --bin collapse-bench -- ${BENCH_ARGS:-} >target/bench/table.md 2>target/bench/log.txt \
    || { tail -n 20 target/bench/log.txt >&2; exit 1; }
mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)
{
    echo "Run of $(date -u +%Y-%m-%d) by \`make bench-doc\` on a machine with $mem of memory:"
    echo
    cat target/bench/table.md
} >target/bench/section.md
python3 - docs/BENCHMARKS.md target/bench/section.md <<'PYEOF'
import sys
doc_path, section_path = sys.argv[1:]
doc = open(doc_path).read()
begin, end = "<!-- bench-table:begin -->", "<!-- bench-table:end -->"
if begin not in doc or end not in doc:
    sys.exit(f"{doc_path} has no {begin} ... {end} markers")
head, rest = doc.split(begin, 1)
_, tail = rest.split(end, 1)
section = open(section_path).read().strip()
open(doc_path, "w").write(f"{head}{begin}\n{section}\n{end}{tail}")
PYEOF
echo "[bench] docs/BENCHMARKS.md updated" >&2
