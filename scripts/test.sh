#!/usr/bin/env bash
# The whole test suite: unit tests, then integration tests with real containers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
python3 -m pytest -q "$@"
