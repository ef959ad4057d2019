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
# `grade selftest` applies mutants (mutants/*.patch) with GNU patch; diffutils is always there.
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && ! command -v patch >/dev/null 2>&1; then
  echo "setup: installing patch for the mutants of grade selftest" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends patch >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends patch >/dev/null; }
fi
# bounded-buffer's Python programs need posix_ipc (not packaged by Debian 12) in the python3 the
# local runner starts them with.
if [ "$(id -u)" = 0 ] && [ -x /usr/bin/python3 ] && ! /usr/bin/python3 -c "import posix_ipc" 2>/dev/null; then
  echo "setup: installing posix_ipc for the local runner" >&2
  PIP_ROOT_USER_ACTION=ignore /usr/bin/python3 -m pip install -q --disable-pip-version-check --break-system-packages \
    "posix_ipc==1.3.2" >/dev/null 2>&1 || echo "setup: posix_ipc not installed; the local runner cannot grade bounded-buffer in Python" >&2
fi
# (Re)install when the `grade` command or a dependency is missing, or when the installed
# package is another checkout's (an editable install points at one folder only).
here="$(pwd)/grader"
installed="$(cd / && python3 -c "import grader, rich, docker, yaml, pydantic, jinja2, junitparser, pytest, build, wheel, ruff, jsonschema, os; print(os.path.dirname(grader.__file__))" 2>/dev/null || true)"
if [ "$installed" != "$here" ] || ! command -v grade >/dev/null 2>&1; then
  echo "setup: installing ipcgrade (pip install -e '.[test]')" >&2
  log="$(mktemp)"
  if ! PIP_ROOT_USER_ACTION=ignore python3 -m pip install -q --disable-pip-version-check -e '.[test]' >"$log" 2>&1; then
    cat "$log" >&2
    echo "setup: installing ipcgrade failed (see above)" >&2
    exit 1
  fi
  rm -f "$log"
fi
