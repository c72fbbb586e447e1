# The project's commands. Each target does its own set-up (tools/setup.sh):
# libclang for bindgen, and the ONNX Runtime library fetched from PyPI.
#
#   make demo    render the demo collapse shot into out/demo/
#   make test    run the whole test suite (what CI runs)
#   make bundle  assemble target/ofx/Collapse.ofx.bundle
#   make bench   print the benchmark table
#   make model   regenerate the bundled default model (needs python onnx)
#   make leakcheck  the load/unload cycles under valgrind, losses attributed (~4 min)
#   make fuzz    the shot-file and model-metadata parsers under cargo fuzz (FUZZ_SECONDS each)

.PHONY: demo test bundle bench model setup leakcheck fuzz

setup:
	@tools/setup.sh >/dev/null

bundle:
	@tools/bundle.sh

demo: bundle
	@tools/demo.sh

# The fault tests also need an ONNX Runtime older than the plugin supports.
OLD_ORT_VERSION := 1.22.0

test: bundle
	@ORT_VERSION=$(OLD_ORT_VERSION) tools/setup.sh >/dev/null
	OLD_ORT_VERSION=$(OLD_ORT_VERSION) cargo test --release

bench: bundle
	cargo run --release --bin collapse-bench

model:
	python3 tools/make_default_model.py

leakcheck: bundle
	tools/leakcheck.sh

fuzz:
	tools/fuzz.sh
