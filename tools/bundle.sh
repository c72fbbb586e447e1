#!/usr/bin/env bash
# Builds the plugin and assembles target/ofx/Collapse.ofx.bundle:
#   Contents/Info.plist
#   Contents/Linux-x86-64/Collapse.ofx                 the plugin (our cdylib)
#   Contents/Linux-x86-64/lib/libonnxruntime.so.1      ONNX Runtime (+ GPU providers with ORT_FLAVOR=gpu)
#   Contents/Resources/                                the models (procedural .onnx, learned .collapse package), icons
set -euo pipefail
cd "$(dirname "$0")/.."
ORT_DIR=$(tools/setup.sh)
. target/deps/env.sh   # where setup put libclang, when it is not the system's
cargo build --release --lib --bin collapse-render
OUT=target/ofx/Collapse.ofx.bundle
rm -rf "$OUT.tmp"
mkdir -p "$OUT.tmp/Contents/Linux-x86-64/lib" "$OUT.tmp/Contents/Resources"
cp bundle/Contents/Info.plist "$OUT.tmp/Contents/"
cp -R bundle/Contents/Resources/. "$OUT.tmp/Contents/Resources/"
cp target/release/libcollapse_ofx.so "$OUT.tmp/Contents/Linux-x86-64/Collapse.ofx"
cp "$ORT_DIR"/lib* "$OUT.tmp/Contents/Linux-x86-64/lib/"
rm -rf "$OUT" && mv "$OUT.tmp" "$OUT"
echo "[bundle] $OUT ready: copy it into a folder on OFX_PLUGIN_PATH (or /usr/OFX/Plugins)" >&2
