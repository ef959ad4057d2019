#!/usr/bin/env bash
# The whole test suite: the linter (ruff, configured in pyproject.toml), then unit tests, then
# integration tests with real containers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
python3 -m ruff check .
python3 -m pytest -q "$@"
