"""`grade audit` findings: every rule, in the order they are reported.

Every rule is precise on purpose: it reports only what the kernel state or the trace
proves (or says "likely" when what it saw also fits a correct program), because a false
finding on a correct program costs an instructor more than a missed one.
"""
from __future__ import annotations

from grader.audit.container.ignored import ignored_errors
from grader.audit.container.lifecycle import crashes, zombies
from grader.audit.container.objects import no_shmdt, posix_leaks, sockets_left, sysv_leaks
from grader.audit.container.observation import CERTAIN, KINDS, Finding, Observation
from grader.audit.container.pipe_rules import pipe_ends, pipe_hangs
from grader.audit.container.waits import busy_waits, hangs

# ------------------------------------------------------------------ all

def audit(obs: Observation) -> list[Finding]:
    stuck_hangs = hangs(obs)
    pipes_stuck = pipe_hangs(obs)
    hung = {w.pid for w in obs.pipe_waits} | {p.pid for w in obs.pipe_waits for p in w.other_end}
    hung = hung if pipes_stuck else set()
    in_hang = {p.pid for p in obs.stuck if any(f.process == p.who for f in stuck_hangs)}
    findings = (crashes(obs) + stuck_hangs + pipes_stuck + sysv_leaks(obs, in_hang) + posix_leaks(obs)
                + sockets_left(obs) + no_shmdt(obs) + pipe_ends(obs, in_hang) + busy_waits(obs)
                + zombies(obs, hung | in_hang) + ignored_errors(obs))
    order = {k: i for i, k in enumerate(KINDS)}
    return sorted(findings, key=lambda f: (f.certainty != CERTAIN, order[f.kind]))
