#!/usr/bin/env bash
# One-time setup for a fresh machine: a Docker daemon and the `grade` command.
# Safe to run again; it does nothing that is already done.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-docker.sh
# The HTML report test renders pages in headless Chromium (Debian's package).
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && ! command -v chromium >/dev/null 2>&1; then
  echo "setup: installing chromium for the HTML report test" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; } || true
fi
# The local runner (grade check --runner local) uses the host's tracer and compilers.
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
   && ! { command -v strace >/dev/null && /usr/bin/python3 -c "import sysv_ipc" 2>/dev/null; }; then
  echo "setup: installing strace and python3-sysv-ipc for the local runner" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends strace python3-sysv-ipc >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends strace python3-sysv-ipc >/dev/null; }
fi
if ! python3 -c "import grader, rich, docker, yaml, pydantic, junitparser, pytest" 2>/dev/null \
   || ! command -v grade >/dev/null 2>&1; then
  echo "setup: installing ipcgrade (pip install -e '.[test]')" >&2
  python3 -m pip install -q --disable-pip-version-check -e '.[test]' 2>&1 | grep -v "Running pip as the 'root' user" >&2 || true
fi
