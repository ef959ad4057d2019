"""Connect to the Docker daemon, or explain plainly how to get one."""
from __future__ import annotations

import docker
from docker.errors import DockerException

from grader.run.runners import RunnerUnavailable


class DockerUnavailable(RunnerUnavailable):
    """No Docker daemon answers, or it failed mid-run."""


HOW_TO = ("No Docker daemon is reachable. On Debian as root run scripts/ensure-docker.sh "
          "(it installs docker.io and starts dockerd); elsewhere start Docker and make sure "
          "your user may use it.")


def client() -> docker.DockerClient:
    try:
        c = docker.from_env(timeout=120)
        c.ping()
        return c
    except DockerException as e:
        raise DockerUnavailable(f"{HOW_TO} ({type(e).__name__})") from None
