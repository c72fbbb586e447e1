#!/usr/bin/env bash
# Leak check (`make leakcheck`): the load/describe/create/render/destroy/unload
# test (tests/load_cycles.rs) under valgrind memcheck, once with few cycles and
# once with more; tools/leakcheck.py attributes what is left to the plugin,
# ONNX Runtime, the test host or the system and fails on per-cycle growth.
#   LEAK_CYCLES="1 3" (default)   the two cycle counts; logs go to target/leakcheck/
# Takes about 4 minutes on 2 cores (valgrind runs ONNX Runtime ~50x slower).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "[leakcheck] valgrind is missing: apt-get install -y valgrind" >&2; exit 1; }
tools/setup.sh >/dev/null
. target/deps/env.sh
read -r FEW MANY <<<"${LEAK_CYCLES:-1 3}"
OUT=target/leakcheck
mkdir -p "$OUT"
bin=$(cargo test --release --test load_cycles --no-run --message-format=json 2>/dev/null \
    | python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "load_cycles":
        print(m["executable"])')
[ -x "$bin" ] || { echo "[leakcheck] could not build the load_cycles test" >&2; exit 1; }
args=()
for n in $FEW $MANY; do
    echo "[leakcheck] $n cycle(s) under valgrind..." >&2
    COLLAPSE_LOAD_CYCLES=$n COLLAPSE_THREADS=1 valgrind --leak-check=full --show-leak-kinds=all \
        --num-callers=40 --log-file="$OUT/memcheck-$n.txt" "$bin" --test-threads=1 >"$OUT/test-$n.txt" 2>&1 \
        || { echo "[leakcheck] the test failed under valgrind; see $OUT/test-$n.txt" >&2; exit 1; }
    args+=("$n:$OUT/memcheck-$n.txt")
done
python3 tools/leakcheck.py "${args[@]}" | tee "$OUT/report.md"
