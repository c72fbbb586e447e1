#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers we own (`make fuzz`): the renderer's
# shot files and a model's contract metadata, with cargo fuzz (libFuzzer).
#   FUZZ_SECONDS=60 (default)   how long each target runs
# cargo fuzz needs nightly compiler flags; the one stable toolchain here gives
# them with RUSTC_BOOTSTRAP=1. Crashes land in tests/fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${FUZZ_SECONDS:-60}"
TOOLS="$PWD/target/tools"
if ! command -v cargo-fuzz >/dev/null && [ ! -x "$TOOLS/bin/cargo-fuzz" ]; then
    echo "[fuzz] installing cargo-fuzz from crates.io into target/tools" >&2
    cargo install --quiet --locked --root "$TOOLS" cargo-fuzz
fi
export PATH="$TOOLS/bin:$PATH" RUSTC_BOOTSTRAP=1
tools/setup.sh >/dev/null   # the lib's build needs libclang, as the main build does
. target/deps/env.sh
for target in shot_file model_metadata; do
    corpus="target/fuzz-corpus/$target"
    mkdir -p "$corpus"
    echo "[fuzz] $target for ${SECONDS_EACH}s" >&2
    log="target/fuzz-corpus/$target.log"
    ok=1
    cargo fuzz run --fuzz-dir tests/fuzz --sanitizer address "$target" "$corpus" "tests/fuzz/seeds/$target" \
        -- -max_total_time="$SECONDS_EACH" -max_len=4096 -print_final_stats=1 >"$log" 2>&1 || ok=0
    grep -E "^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::peak_rss|==[0-9]+==ERROR|SUMMARY|thread .* panicked|Test unit written)" "$log" || true
    [ $ok = 1 ] || { echo "[fuzz] $target FAILED (log: $log; inputs: tests/fuzz/artifacts/$target/)" >&2; exit 1; }
done
echo "[fuzz] no crash in ${SECONDS_EACH}s per target" >&2
