#!/usr/bin/env bash
# One-time setup for a fresh machine: a Docker daemon and the `grade` command.
# Safe to run again; it does nothing that is already done.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-docker.sh
if ! python3 -c "import grader, rich, docker, yaml, pydantic, junitparser, pytest" 2>/dev/null \
   || ! command -v grade >/dev/null 2>&1; then
  echo "setup: installing ipcgrade (pip install -e '.[test]')" >&2
  python3 -m pip install -q --disable-pip-version-check -e '.[test]' 2>&1 | grep -v "Running pip as the 'root' user" >&2 || true
fi
