"""Hidden checks for uds-echo: run at grading time, never shipped to students."""
import signal

from grader.harness.api import Fail, check

from .checks import REPLY_SECONDS, HarnessClient, _no_reply, connect, fresh_path, server_gone, signal_exit, start_server


@check("sigint-cleanup", depends=["server-listening"], hidden=True)
def sigint_cleanup(ctx):
    """On SIGINT (Ctrl-C) the server prints `bye`, exits 0 and removes its socket file"""
    signal_exit(ctx, signal.SIGINT)


@check("survives-early-hangup", depends=["twenty-clients"], hidden=True)
def survives_early_hangup(ctx):
    """A client that hangs up before reading its replies does not bring the server down"""
    path = fresh_path(ctx)
    server = start_server(ctx, path)
    first = connect(server, path)
    try:
        first.send(b"wait\n")                     # the server is now busy with this client
        if not first.read_lines(1, REPLY_SECONDS):
            raise _no_reply(ctx, server, "a client sent a line", "'wait\\n'", first.eof)
        # Queued behind the first client: its lines are in the server's socket, it is gone before
        # the server even accepts it, so every reply the server sends meets a closed peer (EPIPE).
        rude = connect(server, path, "a second client")
        rude.send(b"you will\nnever read\nthese replies\n")
        rude.close()
    finally:
        first.close()
    _still_serving(ctx, server, path, "a client hung up early", "a client hung up without reading its replies",
                   EPIPE_HINT)
    # A client whose reply has arrived, and who closes without reading it: the reply is left unread,
    # so the server's next read() fails with ECONNRESET (Python: ConnectionResetError), not 0.
    silent = connect(server, path, "a third client")
    try:
        silent.send(b"reply, please\n")
        if not silent.wait_received(REPLY_SECONDS):
            raise _no_reply(ctx, server, "a client sent a line", "'reply, please\\n'", silent.eof)
    finally:
        silent.close()
    _still_serving(ctx, server, path, "a client closed without reading the reply it was sent",
                   "a client closed without reading the reply it was sent", ECONNRESET_HINT)


EPIPE_HINT = ("Writing to a client that has gone fails (EPIPE; Python: BrokenPipeError). Treat that as "
              "the end of this client, close its connection and accept the next one.")
ECONNRESET_HINT = ("When a client closes without reading what you sent it, your next read() on its connection "
                   "fails with ECONNRESET (Python: ConnectionResetError) instead of returning 0. Treat it like end "
                   "of file: close that connection and accept the next client; do not exit.")
SIGPIPE_HINT = ("Writing to a socket whose peer has closed raises SIGPIPE, which kills the process. Send with "
                "send(fd, buf, len, MSG_NOSIGNAL) or ignore SIGPIPE (signal(SIGPIPE, SIG_IGN)); then "
                "treat the EPIPE error as 'this client is gone'.")


def _still_serving(ctx, server, path: str, event: str, after: str, hint: str) -> None:
    """After EVENT, a new client's line is still answered; otherwise say how the server went wrong."""
    probe = None
    try:
        probe = HarnessClient(path)
        probe.send(b"still there?\n")
        lines = probe.read_lines(1, REPLY_SECONDS)
    except OSError:
        lines = []
    finally:
        if probe:
            probe.close()
    if lines:
        return
    if probe is None or probe.eof:                # refused or hung up: is the server dying?
        server.wait(1.0)
    if server.alive():
        raise _no_reply(ctx, server, f"{event}, and the next one sent a line", "'still there?\\n'",
                        probe is None or probe.eof)
    server.wait(1)
    killed = server.returncode == -signal.SIGPIPE
    raise Fail(f"after {after}, {server_gone(server)}",
               expected="the server closes that connection and serves the next client",
               observed=server.describe_exit(),
               evidence=[("echoserver's stderr", server.stderr[-1500:] or "(empty)"),
                         ("signals echoserver received", server.trace.excerpt(server.trace.signals(), 5) or "(none)")],
               hint=SIGPIPE_HINT if killed else hint)
