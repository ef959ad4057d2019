"""The harness's build of C programs: compiled side by side, logged in program order, and a failed
compile judged as a compile of its own (with the whole memory limit) would judge it."""
import shutil

import pytest

from grader.harness import build

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")

GOOD = "int main(void) { return 0; }\n"
BROKEN = "int main(void) { return 0 }\n"


def _build(tmp_path, sources: dict[str, str]):
    for name, text in sources.items():
        (tmp_path / f"{name}.c").write_text(text)
    return build.build(str(tmp_path), list(sources), None, {"PATH": "/usr/bin:/bin"}, cflags="-O0")


def test_programs_build_side_by_side_and_are_logged_in_order(tmp_path):
    result = _build(tmp_path, {"zeta": GOOD, "alpha": GOOD, "mid": GOOD})
    assert result.ok and result.language == "c"
    assert [line.split()[-1] for line in result.log.splitlines() if line.startswith("$ ")] == \
        ["zeta.c", "alpha.c", "mid.c"]
    assert all((tmp_path / p).is_file() for p in ("zeta", "alpha", "mid"))


def test_a_failed_compile_is_compiled_again_alone_with_the_whole_memory_limit(tmp_path, monkeypatch):
    shares = []
    real_run = build._run

    def spy(cmd, cwd, uid, env, share=1):
        shares.append((cmd[-1], share))
        return real_run(cmd, cwd, uid, env, share)
    monkeypatch.setattr(build, "_run", spy)
    result = _build(tmp_path, {"master": GOOD, "slave": BROKEN})
    assert not result.ok
    assert sorted(shares) == [("master.c", 2), ("slave.c", 1), ("slave.c", 2)]
    assert result.log.count("$ gcc") == 2 and "expected ';'" in result.log
