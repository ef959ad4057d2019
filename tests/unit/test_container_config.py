"""sandbox.container_config: every isolation option and limit is in the container's configuration."""
from __future__ import annotations

from grader.run import sandbox
from grader.run.runners import Limits


def config(tmp_path, **limits):
    return sandbox.container_config("ipcgrade:test", ["python3", "-m", "grader.harness"], tmp_path, Limits(**limits))


def test_the_container_is_isolated(tmp_path):
    c = config(tmp_path)
    assert c["network_mode"] == "none" and c["ipc_mode"] == "private"
    assert c["read_only"] is True
    assert c["security_opt"] == ["no-new-privileges"]
    assert c["cap_drop"] == ["ALL"] and set(c["cap_add"]) == set(sandbox.HARNESS_CAPS)
    assert "SYS_ADMIN" not in c["cap_add"] and "NET_ADMIN" not in c["cap_add"]
    assert c["init"] is True                       # the harness, not a student program, is never PID 1
    assert c["stop_signal"] == "SIGKILL"
    (mount,) = c["mounts"]
    assert (mount["Target"], mount["Source"], mount["Type"], mount["ReadOnly"]) == \
        ("/submission", str(tmp_path.resolve()), "bind", True)
    assert {"/work", "/tmp", "/run/ipcgrade"} <= set(c["tmpfs"])
    assert {"Name": "core", "Soft": 0, "Hard": 0} in c["ulimits"]
    assert c["labels"][sandbox.LABEL] == "grading" and c["labels"][f"{sandbox.LABEL}.owner"] == sandbox.owner_label()


def test_the_limits_are_applied(tmp_path):
    c = config(tmp_path, memory="300m", pids=77, cpus=0.5, work_tmpfs="10m")
    assert c["mem_limit"] == c["memswap_limit"] == "300m"      # no swap beyond the memory limit
    assert c["pids_limit"] == 77 and c["nano_cpus"] == 500_000_000
    assert c["tmpfs"]["/work"].startswith("size=10m,")
    assert int(c["sysctls"]["kernel.shmmax"]) <= 64 << 20 and int(c["sysctls"]["kernel.msgmni"]) <= 64
    assert "runtime" not in c
    assert config(tmp_path, runtime="runsc")["runtime"] == "runsc"


def test_limits_are_data_and_name_themselves_in_the_cache_key():
    assert Limits() == Limits() and hash(Limits(memory="1g")) == hash(Limits(memory="1g"))
    assert repr(Limits(wall_seconds=5)) != repr(Limits())
    assert sandbox.Limits is Limits
