"""Hidden checks for mq-mailbox: run at grading time, never shipped to students."""
from grader.harness.api import Fail, check, compare_lines

from .checks import EXIT_SECONDS, clean_lines, run_program, start_recv, trace_excerpt

KEY_LONG = "1296171018"             # 0x4d42000a
MAX_TEXT = 256


@check("long-texts", depends=["fifo-order"], hidden=True)
def long_texts(ctx):
    """A text of 256 bytes (the longest the spec allows) arrives complete, followed by a short one"""
    longest = "".join(chr(ord("a") + i % 26) for i in range(MAX_TEXT - 4)) + "-end"
    texts = [longest, "ok"]
    recv, _ = start_recv(ctx, KEY_LONG)
    run_program(ctx, ["send", KEY_LONG, *texts], "student", [recv])
    run_program(ctx, ["end", KEY_LONG], "student", [recv])
    rc = recv.wait(EXIT_SECONDS)
    if rc is None:
        recv.kill()
    ok, diff = compare_lines(texts, clean_lines(recv))
    if not ok or rc != 0:
        raise Fail(f"a {MAX_TEXT}-byte text did not arrive complete", expected="\n".join(texts),
                   observed=f"{recv.stdout[-800:]!r} (recv {recv.describe_exit()})",
                   evidence=[("recv's output, line by line", diff),
                             ("recv's stderr", recv.stderr[-1500:] or "(empty)"),
                             ("recv's message-queue calls", trace_excerpt(recv))],
                   hint=f"Texts may be {MAX_TEXT} bytes long: the mtext buffer and the size passed to msgrcv must "
                        f"hold {MAX_TEXT} bytes (msgrcv fails with E2BIG when a message is bigger than msgsz). "
                        "Keep room for a terminating '\\0' beyond that if you add one.")
