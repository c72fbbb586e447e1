#!/usr/bin/env bash
# `make look-sheets`: the collapse on every real photograph of tests/data/photos
# (before, mid-fall, dust, settled) into docs/images/photos/, through the bundle.
set -euo pipefail
cd "$(dirname "$0")/.."
SETUP_PYTHON=demo tools/setup.sh >/dev/null
target/venv/bin/python tools/look_sheets.py "$@"
