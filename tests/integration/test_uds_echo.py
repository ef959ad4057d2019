"""uds-echo beyond the selftest: mix-and-match blames the side that has the bug, and the
feedback for the kernel-state checks shows what the kernel showed.

Reuses the session's full grading of every uds-echo reference and mutant (conftest's
`full_grades`), so it costs nothing when the generic selftest test runs in the same session.
"""
import pytest

NAME = "uds-echo"


def _result(full_grades, case_name):
    cases, book = full_grades(NAME)
    by_name = {r.student: r for r in book.submissions}
    return {c.id: c for c in by_name[case_name].checks}


@pytest.mark.docker
def test_a_client_bug_is_blamed_on_the_client(full_grades):
    checks = _result(full_grades, "mutant/c-client-first-reply-only")
    assert checks["server-with-reference-client"].status.value == "passed"
    blamed = checks["client-with-reference-server"]
    assert blamed.status.value == "failed"
    assert "your echoclient against the reference server" in blamed.outcome.message
    assert "problem is in your echoclient" in blamed.outcome.hint
    # The student's own pair fails too, and points at the mix-and-match checks to tell which side.
    assert checks["echo-correct"].status.value == "failed"
    assert "mix-and-match" in checks["echo-correct"].outcome.hint


@pytest.mark.docker
def test_a_server_bug_is_blamed_on_the_server(full_grades):
    checks = _result(full_grades, "mutant/py-server-echo-unchanged")
    assert checks["client-with-reference-server"].status.value == "passed"
    blamed = checks["server-with-reference-client"]
    assert blamed.status.value == "failed"
    assert "the reference client against your echoserver" in blamed.outcome.message
    assert "problem is in your echoserver" in blamed.outcome.hint
    # Line framing is judged separately from case: a server that only forgets to uppercase
    # still handles split and batched lines.
    assert checks["split-lines"].status.value == "passed"
    assert checks["batched-lines"].status.value == "passed"


@pytest.mark.docker
def test_a_server_that_stops_after_one_client_passes_every_one_client_check(full_grades):
    checks = _result(full_grades, "mutant/c-exit-after-first-client")
    assert checks["twenty-clients"].status.value == "failed"
    # Client 2 either connects before the server removes its socket file (no reply, then the exit)
    # or after it (cannot connect): the verdict and the facts named are the same either way.
    message = checks["twenty-clients"].outcome.message
    assert "client 2 of 20" in message and "exited with status 0" in message, message
    for one_client in ("echo-correct", "server-with-reference-client", "split-lines", "batched-lines"):
        assert checks[one_client].status.value == "passed", one_client


@pytest.mark.docker
def test_leaked_fds_are_shown_from_proc(full_grades):
    leak = _result(full_grades, "mutant/c-leak-conn-fd")["no-leaked-fds"]
    assert leak.status.value == "failed"
    table = "\n".join(e.text for e in leak.outcome.evidence)
    assert table.count("a client connection") == 20
    assert table.count("listening at") == 1


@pytest.mark.docker
def test_busy_accept_is_caught_by_cpu_time_not_by_the_clock(full_grades):
    busy = _result(full_grades, "mutant/c-busy-accept")["idle-blocks"]
    assert busy.status.value == "failed"
    assert "CPU ratio" in busy.outcome.observed
    for ref in ("reference/c", "reference/python"):
        assert _result(full_grades, ref)["idle-blocks"].status.value == "passed"


@pytest.mark.docker
def test_a_busy_read_is_blamed_on_the_read_half_while_the_accept_half_is_shown_blocked(full_grades):
    """idle-blocks measures its two servers over one window; each half keeps its own verdict."""
    busy = _result(full_grades, "mutant/py-busy-read")["idle-blocks"]
    assert busy.status.value == "failed"
    assert "sleeping in read()" in busy.outcome.message and "accept()" not in busy.outcome.message
    labels = [e.label for e in busy.outcome.evidence]
    assert "with no client (for comparison)" in labels        # the accept half, which held


@pytest.mark.docker
def test_a_client_that_never_shuts_down_its_side_is_proven_deadlocked(full_grades):
    checks = _result(full_grades, "mutant/py-client-no-shutdown")
    assert checks["server-with-reference-client"].status.value == "passed"
    blamed = checks["client-with-reference-server"]
    assert blamed.status.value == "failed"
    assert "deadlocked" in blamed.outcome.message and "did not finish" not in blamed.outcome.message
    assert "shutdown(fd, SHUT_WR)" in blamed.outcome.hint
    evidence = {e.label: e.text for e in blamed.outcome.evidence}
    connection = next(text for label, text in evidence.items() if label.startswith("the connection"))
    assert "has not shut down its sending side" in connection
    assert "sendto(" in evidence["last system calls of echoclient"]      # its writes, not just connect


@pytest.mark.docker
def test_a_server_that_exits_on_econnreset_fails_the_early_hangup_check(full_grades):
    checks = _result(full_grades, "mutant/c-exit-on-econnreset")
    hangup = checks["survives-early-hangup"]
    assert hangup.status.value == "failed"
    assert "ECONNRESET" in hangup.outcome.hint
    assert [c for c, r in checks.items() if r.status.value == "failed"] == ["survives-early-hangup"]
