"""The half of `grade audit` that runs inside the grading container (see grader/audit/__init__.py)."""
