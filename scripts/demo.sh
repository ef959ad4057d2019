#!/usr/bin/env bash
# Grade the bundled demo class end to end: sets up Docker and the grader if needed,
# builds the grading image on first use, then grades demo/shm-handshake.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
out="${1:-demo-results}"
grade demo/shm-handshake -a shm-handshake -o "$out"
echo
echo "Gradebook: $out/grades.csv   Feedback: $out/<student>/feedback.md"
