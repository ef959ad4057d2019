"""`grade clean` removes leftover grading containers and grading images of older harness versions."""
import io
import tarfile

import pytest

from grader import cli
from grader.run import image, sandbox


@pytest.mark.docker
def test_clean_removes_leftovers_and_keeps_the_current_image(tmp_path, docker_client):
    current = image.ensure_image(docker_client)
    config = sandbox.container_config(current, ["sleep", "60"], tmp_path, sandbox.Limits())
    config["labels"] = {sandbox.LABEL: "grading", f"{sandbox.LABEL}.owner": "elsewhere:1"}  # a crashed grader's
    leftover = docker_client.containers.create(**config)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("old")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"old"))
    docker_client.api.import_image_from_data(buf.getvalue(), repository="ipcgrade", tag="0000oldharness00",
                                             changes=["LABEL ipcgrade=image"])
    assert cli.main(["clean"]) == 0
    ids = {c.id for c in sandbox.leftover_containers(docker_client)}
    assert leftover.id not in ids
    tags = {t for img in docker_client.images.list(name="ipcgrade") for t in img.tags}
    assert current in tags and "ipcgrade:0000oldharness00" not in tags
