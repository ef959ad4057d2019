"""The strace parser: whole calls, split calls, signals, exits, odd arguments."""
from grader.harness import trace

SAMPLE = """\
13    08:05:12.606280 shmget(IPC_PRIVATE, 40, IPC_CREAT|IPC_EXCL|0600) = 0
13    08:05:12.606454 shmat(0, NULL, 0) = 0x7f0add8ad000
13    08:05:12.606670 write(1, "a, b) = 3\\n\\"q\\"", 13) = 13
14    08:05:12.700000 msgrcv(0,  <unfinished ...>
13    08:05:12.800000 wait4(-1,  <unfinished ...>
14    08:05:13.100000 <... msgrcv resumed>{mtype=1, mtext="hi"}, 256, 0, 0) = 3
14    08:05:13.200000 msgrcv(0, 0x7ffc, 256, 0, IPC_NOWAIT) = -1 ENOMSG (No message of desired type)
14    08:05:13.300000 --- SIGINT {si_signo=SIGINT, si_code=SI_USER, si_pid=1, si_uid=0} ---
14    08:05:13.400000 pause() = ? ERESTARTNOHAND (To be restarted if no handler)
14    08:05:13.500000 +++ killed by SIGKILL +++
13    08:05:13.600000 <... wait4 resumed>[{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}], 0, NULL) = 14
13    08:05:13.700000 exit_group(0)     = ?
13    08:05:13.800000 +++ exited with 0 +++
15    08:05:12.900000 read(3,  <unfinished ...>
garbage line that is not strace output
"""


def parsed():
    return trace.parse(SAMPLE)


def test_plain_calls_have_args_result_and_pid():
    shmget = parsed().calls("shmget")[0]
    assert shmget.pid == 13
    assert shmget.args == ["IPC_PRIVATE", "40", "IPC_CREAT|IPC_EXCL|0600"]
    assert shmget.ret == 0 and not shmget.failed


def test_hex_results_and_quoted_strings_with_commas():
    t = parsed()
    assert t.calls("shmat")[0].ret == 0x7f0add8ad000
    write = t.calls("write")[0]
    assert write.args[0] == "1" and write.args[2] == "13" and write.ret == 13


def test_unfinished_and_resumed_calls_are_joined_at_start_time():
    msgrcv = parsed().calls("msgrcv")[0]
    assert msgrcv.args == ["0", '{mtype=1, mtext="hi"}', "256", "0", "0"]
    assert msgrcv.ret == 3
    assert abs(msgrcv.time - (8 * 3600 + 5 * 60 + 12.7)) < 1e-6
    wait = parsed().calls("wait4")[0]
    assert wait.ret == 14 and wait.args[0] == "-1"


def test_errors_signals_and_exits():
    t = parsed()
    nowait = t.calls("msgrcv")[1]
    assert nowait.failed and nowait.errno == "ENOMSG" and nowait.ret == -1
    assert [s.signal for s in t.signals(14)] == ["SIGINT"]
    pause = t.calls("pause")[0]
    assert pause.ret is None and pause.errno == "ERESTARTNOHAND"
    exits = t.exits()
    assert exits[14].signal == "SIGKILL" and exits[14].code is None
    assert exits[13].code == 0


def test_padded_result_and_never_returning_call():
    t = parsed()
    assert t.calls("exit_group")[0].args == ["0"]
    read = t.calls("read")[0]  # still unfinished at the end of the file: killed inside read()
    assert read.pid == 15 and read.ret is None and read.args == ["3"]


def test_pid_filter_and_order():
    t = parsed()
    assert [c.name for c in t.calls(pid=14)] == ["msgrcv", "msgrcv", "pause"]
    assert t.pids()[:2] == [13, 14]


def test_split_args_nesting():
    assert trace.split_args('3, [{a, b}, (c, d)], "x,y"') == ["3", "[{a, b}, (c, d)]", '"x,y"']
    assert trace.split_args("") == []


def _split_one_char_at_a_time(body: str) -> list[str]:
    """The splitting rule written as plainly as possible: what split_args must agree with."""
    args, depth, cur, quote, escape = [], 0, "", False, False
    for ch in body:
        if quote:
            cur += ch
            escape, quote = (False, True) if escape else (ch == "\\", ch != '"')
            continue
        if ch == "," and depth == 0:
            args, cur = args + [cur.strip()], ""
            continue
        quote = ch == '"'
        depth += (ch in "[{(") - (ch in "]})")
        cur += ch
    return args + [cur.strip()] if cur.strip() or args else args


def test_split_args_agrees_with_the_plain_rule_on_odd_text():
    """Quotes with escapes (an escaped backslash before a quote too), unbalanced and stray
    brackets, an unterminated string, empty arguments: every string over a small alphabet."""
    import itertools
    alphabet = ['"', "\\", ",", "[", "]", "(", ")", "a", " "]
    for size in range(6):
        for chars in itertools.product(alphabet, repeat=size):
            body = "".join(chars)
            assert trace.split_args(body) == _split_one_char_at_a_time(body), body


def test_empty_and_garbage_input():
    assert trace.parse("").events == []
    assert trace.parse("not strace\n\n").events == []


def test_exit_of_reads_the_same_exit_as_a_whole_parse():
    text = SAMPLE + "130   08:05:14.000000 +++ exited with 3 +++\n13    08:05:14.100000 +++ exited with 0 +++\n"
    whole = trace.parse(text).exits()
    for pid in (13, 14, 130, 1, 3):
        assert trace.exit_of(text, pid) == whole.get(pid)
    assert trace.exit_of(text, 13).code == 0 and trace.exit_of(text, 14).signal == "SIGKILL"
