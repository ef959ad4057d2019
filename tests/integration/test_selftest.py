"""Every assignment proves its harness: references full marks, mutants fail exactly their named checks."""
import pytest

from grader import assignments, selftest

from conftest import RUN_MODES, failure_notes


@pytest.mark.docker
@pytest.mark.parametrize("name", assignments.available())
def test_references_pass_and_mutants_fail_their_named_checks(name, verdict_runs):
    """Judged on every full run of the shared loaded runs, not just one."""
    cases = verdict_runs["cases"][name]
    problems = [f"run {i + 1}: {case.name}: {why} [{failure_notes(result)}]"
                for i, (mode, book) in enumerate(zip(RUN_MODES, verdict_runs["books"][name])) if mode == "full"
                for case, result, why in selftest.evaluate(cases, book) if why]
    assert not problems, "\n".join(problems)     # a string: pytest shows it whole
    assert sum(c.expected_failures is not None for c in cases) >= 7

# The `grade selftest` command itself (exit 0 when every case gets its verdict) is run on a whole
# assignment by test_authoring; its verdicts for the bundled ones are the shared runs judged above.
