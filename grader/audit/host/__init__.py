"""The half of `grade audit` that runs on the host (see grader/audit/__init__.py)."""
