"""Finding one submission per student in a folder of folders and archives."""
from __future__ import annotations

import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from grader.discover.submissions import DiscoveryError, discover


def make_zip(path: Path, files: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)


def make_tar_gz(path: Path, files: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "submissions"
    root.mkdir()
    return root


def test_mixed_folder(root, tmp_path):
    staging = tmp_path / "staging"
    (root / "alice").mkdir()
    (root / "alice/master.c").write_text("int main;")
    (root / "bob").mkdir()
    make_zip(root / "bob.zip", {"master.c": b"zip bob"})
    make_tar_gz(root / "carol.tar.gz", {"carol/master.c": b"m", "carol/worker.c": b"w"})
    (root / "dave.zip").write_bytes(os.urandom(512))
    make_zip(root / "erin.zip", {"../escape.c": b"x"})
    (root / "notes.txt").write_text("not a submission")
    (root / ".git").mkdir()
    make_zip(root / ".hidden.zip", {"x.c": b""})

    subs = discover(root, staging)

    assert [s.student for s in subs] == ["alice", "bob", "bob", "carol", "dave", "erin"]
    by = {(s.student, s.problem is None): s for s in subs}
    assert by["alice", True].path == root / "alice"
    assert by["bob", True].path == root / "bob"  # folders are used in place
    assert by["bob", False].problem == "duplicate submission name 'bob'"
    assert by["bob", False].path == root / "bob.zip"
    carol = by["carol", True]
    assert carol.path == staging / "carol"
    assert sorted(os.listdir(carol.path)) == ["master.c", "worker.c"]
    dave = by["dave", False]
    assert dave.path == staging / "dave" and dave.problem.startswith("corrupt archive: ")
    assert by["erin", False].problem.startswith("unsafe archive: ")
    assert not (staging / "escape.c").exists()
    assert not (staging / "bob").exists()


def test_two_archives_with_same_name(root, tmp_path):
    make_zip(root / "bob.zip", {"a.c": b"zip"})
    make_tar_gz(root / "bob.tar.gz", {"a.c": b"tar"})
    subs = discover(root, tmp_path / "staging")
    assert [(s.student, s.problem) for s in subs] == [
        ("bob", None), ("bob", "duplicate submission name 'bob'")]
    assert (subs[0].path / "a.c").read_bytes() == b"tar"  # b"bob.tar.gz" < b"bob.zip"


def test_stale_staging_is_replaced(root, tmp_path):
    staging = tmp_path / "staging"
    make_zip(root / "bob.zip", {"new.c": b""})
    (staging / "bob").mkdir(parents=True)
    (staging / "bob/old.c").write_text("")
    [bob] = discover(root, staging)
    assert bob.problem is None and os.listdir(bob.path) == ["new.c"]
    [again] = discover(root, staging)
    assert os.listdir(again.path) == ["new.c"]


def test_staging_inside_root_is_not_a_submission(root):
    make_zip(root / "bob.zip", {"a.c": b""})
    discover(root, root / "work")
    assert [s.student for s in discover(root, root / "work")] == ["bob"]


def test_odd_names_stay_displayable(root, tmp_path):
    os.mkdir(os.fsencode(root) + b"/caf\xe9")
    os.mkdir(os.fsencode(root) + b"/line\nbreak")
    (root / "with space").mkdir()
    subs = discover(root, tmp_path / "staging")
    assert [s.student for s in subs] == ["caf\ufffd", "line\ufffdbreak", "with space"]
    assert all(s.path.is_dir() for s in subs)
    for s in subs:
        s.student.encode("utf-8")  # no lone surrogates left in what gets reported


def test_empty_folder(root, tmp_path):
    with pytest.raises(DiscoveryError, match="no submissions found in .*sub-folder"):
        discover(root, tmp_path / "staging")


def test_only_stray_and_hidden_entries(root, tmp_path):
    (root / "README.md").write_text("")
    (root / ".DS_Store").write_text("")
    (root / "__MACOSX").mkdir()
    with pytest.raises(DiscoveryError, match="no submissions found"):
        discover(root, tmp_path / "staging")


def test_missing_or_not_a_folder(tmp_path):
    with pytest.raises(DiscoveryError, match="does not exist"):
        discover(tmp_path / "nope", tmp_path / "staging")
    (tmp_path / "file").write_text("")
    with pytest.raises(DiscoveryError, match="is not a folder"):
        discover(tmp_path / "file", tmp_path / "staging")
