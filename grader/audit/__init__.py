"""`grade audit`: an IPC hygiene audit of any C or Python program, or a scenario of several.

Host side only. The pipeline reads one way:
    scenario (parse and validate)  ->  stage (a folder per case)  ->  sandbox (run the
    in-container audit, grader.harness.audit)  ->  models (validate its JSON)  ->  render.
"""
from grader.audit.cli import main

__all__ = ["main"]
