# The project's commands. Each target does its own set-up (tools/setup.sh):
# libclang for bindgen (the system's, apt-get as root, or the PyPI wheel), a
# Python virtual environment in target/venv, and ONNX Runtime fetched from PyPI.
#
#   make demo    render the demo collapse shot into out/demo/
#   make test    run the whole test suite (what CI runs)
#   make bundle  assemble target/ofx/Collapse.ofx.bundle
#   make bench   print the benchmark table
#   make model   regenerate the bundled default model (Python packages into target/venv)
#   make leakcheck  the load/unload cycles under valgrind, losses attributed (~4 min)
#   make fuzz    the shot-file and model-metadata parsers under cargo fuzz (FUZZ_SECONDS each)
#   make fresh-machine  the set-up on a machine without libclang or Python packages
#                (private mount namespaces; root; CI runs it)
#   make bench-doc  run the benchmark and put its table into docs/BENCHMARKS.md
#   make look    the look against known truths: the numbers (tests/look.rs)
#   make farm-test  the render-farm integration: OpenJD bundle, OpenCue outline, Natron recipe (~1 min; part of make test)
#   make soak    a long farm render in one process: memory flat, bits repeatable (SOAK_FRAMES)
#   make look-sheets  the collapse on the real photographs into docs/images/photos/
#   make reference  the classic-VFX reference simulation of a shot into out/reference/ (model/reference)
#   make train   the learned generator: data set from the reference, training (<= 60 min), evaluation,
#                and its package into bundle/Contents/Resources/learned.collapse (model/learned)
#   make package the bundled learned package again from target/learned, or from the bundled
#                network when there is no checkpoint (no training)

.PHONY: demo test bundle bench bench-doc model setup leakcheck fuzz fresh-machine look look-sheets soak farm-test reference train package

setup:
	@tools/setup.sh >/dev/null

bundle:
	@tools/bundle.sh

demo: bundle
	@tools/demo.sh

# The bundled learned package (make train, make package).
LEARNED := bundle/Contents/Resources/learned.collapse

# The fault tests also need an ONNX Runtime older than the plugin supports.
OLD_ORT_VERSION := 1.22.0

test: bundle
	@ORT_VERSION=$(OLD_ORT_VERSION) SETUP_GL=1 SETUP_PYTHON="sim train" tools/setup.sh >/dev/null
	target/venv/bin/python -m unittest model.reference.test_reference model.learned.test_learned
	target/venv/bin/python -m model.learned.train --mini --out target/learned-mini
	target/venv/bin/python -m model.learned.package --model target/learned-mini --out target/learned-mini/learned.collapse
	target/venv/bin/python -m model.learned.package --network-from target/learned-mini/learned.collapse --out target/learned-mini/learned.collapse
	. target/deps/env.sh && OLD_ORT_VERSION=$(OLD_ORT_VERSION) cargo test --release
	tools/farm_test.sh

# The table goes to stdout; the plugin's and ONNX Runtime's log lines to stderr.
bench: bundle
	. target/deps/env.sh && cargo run --quiet --release --bin collapse-bench

bench-doc: bundle
	tools/bench_doc.sh

model:
	@SETUP_PYTHON=model tools/setup.sh >/dev/null
	target/venv/bin/python tools/make_default_model.py

fresh-machine:
	tools/fresh_machine.sh

look: bundle
	. target/deps/env.sh && cargo test --release --test look -- --nocapture

look-sheets: bundle
	tools/look_sheets.sh

reference:
	@SETUP_PYTHON=sim tools/setup.sh >/dev/null
	target/venv/bin/python -m model.reference.shot --seed 3 --aspect 1.0 --frames 48 --out out/reference

train:
	@SETUP_PYTHON="sim train" tools/setup.sh >/dev/null
	target/venv/bin/python -m model.reference.dataset --count 300 --out target/dataset --jobs 1
	target/venv/bin/python -m model.learned.train --data target/dataset --out target/learned --steps 80000 --minutes 45 --seed 1
	target/venv/bin/python -m model.learned.evaluate --data target/dataset --model target/learned
	target/venv/bin/python -m model.learned.package --model target/learned --out $(LEARNED)

# Without a checkpoint in target/learned it keeps the bundled package's trained network and
# re-exports only the procedural stages (fracture, reading, light, ground, lattice, dust, render).
package:
	@SETUP_PYTHON="sim train" tools/setup.sh >/dev/null
	target/venv/bin/python -m model.learned.package --out $(LEARNED) \
	  $(if $(wildcard target/learned/checkpoint.pt),--model target/learned,--network-from $(LEARNED))
farm-test: bundle
	tools/farm_test.sh

soak: bundle
	. target/deps/env.sh && cargo test --release --test soak -- --ignored --nocapture

leakcheck: bundle
	tools/leakcheck.sh

fuzz:
	tools/fuzz.sh
