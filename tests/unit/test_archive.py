"""Safe extraction of untrusted student archives."""
from __future__ import annotations

import io
import os
import stat
import struct
import tarfile
import zipfile
from pathlib import Path

import pytest

from grader.discover.archive import ArchiveError, extract, is_archive, student_name


def make_zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def zip_entry(zf: zipfile.ZipFile, name: str, mode: int, data: bytes = b"") -> None:
    info = zipfile.ZipInfo(name)
    info.external_attr = mode << 16
    zf.writestr(info, data)


def tar_member(tf: tarfile.TarFile, name: str, data: bytes = b"", *, type=tarfile.REGTYPE,
               linkname: str = "", mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode, info.size = type, linkname, mode, len(data)
    tf.addfile(info, io.BytesIO(data) if type == tarfile.REGTYPE else None)


def make_tar(path: Path, files: dict[str, bytes], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode, format=tarfile.GNU_FORMAT) as tf:
        for name, data in files.items():
            tar_member(tf, name, data)
    return path


def listing(dest: Path) -> list[str]:
    return sorted(str(p.relative_to(dest)) for p in dest.rglob("*"))


# --- happy paths -----------------------------------------------------------------

def test_zip_is_extracted_with_fixed_modes(tmp_path):
    src = tmp_path / "alice.zip"
    with zipfile.ZipFile(src, "w") as zf:
        zip_entry(zf, "master.c", stat.S_IFREG | 0o600, b"int main;")
        zip_entry(zf, "bin/run.sh", stat.S_IFREG | 0o700, b"#!/bin/sh\n")
        zip_entry(zf, "docs/", stat.S_IFDIR | 0o700)
    dest = tmp_path / "out"
    extract(src, dest)
    assert listing(dest) == ["bin", "bin/run.sh", "docs", "master.c"]
    assert (dest / "master.c").read_bytes() == b"int main;"
    assert stat.S_IMODE((dest / "master.c").stat().st_mode) == 0o644
    assert stat.S_IMODE((dest / "bin/run.sh").stat().st_mode) == 0o755
    assert stat.S_IMODE((dest / "docs").stat().st_mode) == 0o755


@pytest.mark.parametrize("suffix,mode", [(".tar.gz", "w:gz"), (".tgz", "w:gz"), (".tar", "w")])
def test_tar_variants_are_extracted(tmp_path, suffix, mode):
    src = make_tar(tmp_path / f"bob{suffix}", {"master.c": b"m", "lib/util.h": b"u"}, mode)
    extract(src, tmp_path / "out")
    assert listing(tmp_path / "out") == ["lib", "lib/util.h", "master.c"]


def test_single_top_folder_and_macos_junk(tmp_path):
    src = make_zip(tmp_path / "alice.zip", {
        "alice/master.c": b"m", "alice/src/worker.c": b"w", "alice/.DS_Store": b"junk",
        "__MACOSX/alice/._master.c": b"junk", "._alice": b"junk",
    })
    extract(src, tmp_path / "out")
    assert listing(tmp_path / "out") == ["master.c", "src", "src/worker.c"]


def test_two_top_entries_are_not_unwrapped(tmp_path):
    src = make_zip(tmp_path / "a.zip", {"alice/master.c": b"m", "README": b"r"})
    extract(src, tmp_path / "out")
    assert listing(tmp_path / "out") == ["README", "alice", "alice/master.c"]


def test_windows_backslashes_become_folders(tmp_path):
    src = make_zip(tmp_path / "a.zip", {"src\\master.c": b"m", "Makefile": b"all:"})
    extract(src, tmp_path / "out")
    assert (tmp_path / "out/src/master.c").read_bytes() == b"m"


def test_odd_names_in_tar(tmp_path):
    src = make_tar(tmp_path / "a.tar.gz", {
        "my file.c": b"a", "bad\nname.c": b"b", os.fsdecode(b"caf\xe9.c"): b"c",
    })
    dest = tmp_path / "out"
    extract(src, dest)
    assert sorted(os.listdir(os.fsencode(dest))) == [b"caf\xe9.c", b"my file.c"]


def test_non_utf8_zip_name_is_read_as_cp437(tmp_path):
    raw = make_zip(tmp_path / "a.zip", {"caf_.c": b"c"}).read_bytes()
    src = tmp_path / "b.zip"
    src.write_bytes(raw.replace(b"caf_.c", b"caf\xe9.c"))  # no UTF-8 flag: cp437 bytes
    extract(src, tmp_path / "out")
    assert len(os.listdir(tmp_path / "out")) == 1


def test_invalid_utf8_zip_name_is_corrupt_not_a_crash(tmp_path):
    raw = make_zip(tmp_path / "a.zip", {"caf\u00e9.c": b"c"}).read_bytes()
    src = tmp_path / "b.zip"
    src.write_bytes(raw.replace("caf\u00e9".encode(), b"caf\xff\xfe"))  # UTF-8 flag still set
    with pytest.raises(ArchiveError, match="^corrupt archive: "):
        extract(src, tmp_path / "out")


def test_repeated_file_name_keeps_last(tmp_path):
    src = make_zip(tmp_path / "a.zip", {})
    with zipfile.ZipFile(src, "w") as zf, pytest.warns(UserWarning):
        zf.writestr("x.c", b"first")
        zf.writestr("x.c", b"second")
    extract(src, tmp_path / "out")
    assert (tmp_path / "out/x.c").read_bytes() == b"second"


# --- refusals ---------------------------------------------------------------------

def refused(src: Path, dest: Path, match: str, **limits) -> None:
    with pytest.raises(ArchiveError, match=match) as err:
        extract(src, dest, **limits)
    assert "\n" not in str(err.value)
    assert listing(dest) == []


@pytest.mark.parametrize("name", ["../evil.c", "ok/../../evil.c", "..\\evil.c"])
def test_zip_traversal(tmp_path, name):
    src = make_zip(tmp_path / "a.zip", {"fine.c": b"", name: b"x"})
    refused(src, tmp_path / "sub/out", r"unsafe archive: .*'\.\.'")
    assert not (tmp_path / "evil.c").exists() and not (tmp_path / "sub/evil.c").exists()


def test_tar_traversal(tmp_path):
    src = make_tar(tmp_path / "a.tar.gz", {"fine.c": b"", "a/../../evil.c": b"x"})
    refused(src, tmp_path / "out", "points outside")


@pytest.mark.parametrize("maker", [make_zip, make_tar])
def test_absolute_path(tmp_path, maker):
    src = maker(tmp_path / ("a.zip" if maker is make_zip else "a.tar.gz"), {"/tmp/evil.c": b"x"})
    refused(src, tmp_path / "out", "absolute path")


def test_tar_symlink_out(tmp_path):
    src = tmp_path / "a.tar.gz"
    with tarfile.open(src, "w:gz") as tf:
        tar_member(tf, "passwd", type=tarfile.SYMTYPE, linkname="/etc/passwd")
        tar_member(tf, "passwd", b"overwrite through the link")
    refused(src, tmp_path / "out", "'passwd' is a symbolic link")


def test_tar_hardlink(tmp_path):
    src = tmp_path / "a.tar"
    with tarfile.open(src, "w") as tf:
        tar_member(tf, "shadow", type=tarfile.LNKTYPE, linkname="/etc/shadow")
    refused(src, tmp_path / "out", "hard link")


def test_zip_symlink_entry(tmp_path):
    src = tmp_path / "a.zip"
    with zipfile.ZipFile(src, "w") as zf:
        zip_entry(zf, "master.c", stat.S_IFREG | 0o644, b"m")
        zip_entry(zf, "out", stat.S_IFLNK | 0o777, b"/etc")
    refused(src, tmp_path / "out", "'out' is a symbolic link")


@pytest.mark.parametrize("kind", [tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE])
def test_tar_devices_and_fifos(tmp_path, kind):
    src = tmp_path / "a.tar"
    with tarfile.open(src, "w") as tf:
        tar_member(tf, "dev", type=kind)
    refused(src, tmp_path / "out", "device or fifo")


def test_zip_fifo(tmp_path):
    src = tmp_path / "a.zip"
    with zipfile.ZipFile(src, "w") as zf:
        zip_entry(zf, "pipe", stat.S_IFIFO | 0o644)
    refused(src, tmp_path / "out", "device, fifo or socket")


def test_file_and_folder_with_same_name(tmp_path):
    src = make_tar(tmp_path / "a.tar", {"x": b"file", "x/y.c": b"nested"}, "w")
    refused(src, tmp_path / "out", "both a file and a folder")


def test_too_many_files(tmp_path):
    src = make_zip(tmp_path / "a.zip", {f"f{i}.c": b"" for i in range(11)})
    refused(src, tmp_path / "out", "more than 10 entries", max_files=10)
    tsrc = make_tar(tmp_path / "a.tar.gz", {f"f{i}.c": b"" for i in range(11)})
    refused(tsrc, tmp_path / "out2", "more than 10 entries", max_files=10)
    extract(src, tmp_path / "out3", max_files=11)


def test_zip_bomb(tmp_path):
    src = tmp_path / "bomb.zip"
    zeros = bytes(1 << 20)
    with zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("zeros.bin", "w") as out:
            for _ in range(200):  # 200 MiB, streamed: about 1 MiB on disk
                out.write(zeros)
    assert src.stat().st_size < 2 << 20
    refused(src, tmp_path / "out", "more than 50 MiB")


def test_zip_bomb_with_lying_headers(tmp_path):
    src = tmp_path / "bomb.zip"
    with zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("zeros.bin", "w") as out:
            for _ in range(8):
                out.write(bytes(1 << 20))
    raw = bytearray(src.read_bytes())
    struct.pack_into("<I", raw, 22, 1000)  # local header: uncompressed size
    struct.pack_into("<I", raw, raw.index(b"PK\x01\x02") + 24, 1000)  # central directory
    src.write_bytes(raw)
    refused(src, tmp_path / "out", "^(corrupt archive|archive expands)", max_bytes=1 << 20)


def test_size_is_counted_while_streaming(tmp_path, monkeypatch):
    # CPython's readers stop at the declared size; simulate one that does not.
    src = make_zip(tmp_path / "a.zip", {"small.c": b"x"})
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, *a, **k: io.BytesIO(bytes(5000)))
    refused(src, tmp_path / "out", "more than 1024 bytes", max_bytes=1024)


def test_declared_size_is_checked_before_writing(tmp_path):
    src = make_tar(tmp_path / "a.tar.gz", {"a.c": bytes(600), "b.c": bytes(600)})
    refused(src, tmp_path / "out", "more than 1000 bytes", max_bytes=1000)


def test_random_bytes_zip_is_corrupt(tmp_path):
    src = tmp_path / "a.zip"
    src.write_bytes(os.urandom(4096))
    refused(src, tmp_path / "out", "^corrupt archive: ")


@pytest.mark.parametrize("name", ["a.tar.gz", "a.tar", "a.tgz"])
def test_random_bytes_tar_is_corrupt(tmp_path, name):
    src = tmp_path / name
    src.write_bytes(os.urandom(4096))
    refused(src, tmp_path / "out", "^corrupt archive: ")


def test_truncated_tar_gz_is_corrupt(tmp_path):
    whole = make_tar(tmp_path / "whole.tar.gz", {"a.bin": os.urandom(64 * 1024),
                                                 "b.bin": os.urandom(64 * 1024)})
    src = tmp_path / "a.tar.gz"
    src.write_bytes(whole.read_bytes()[:50_000])
    refused(src, tmp_path / "out", "^corrupt archive: ")


def test_empty_file_is_corrupt(tmp_path):
    (tmp_path / "a.zip").write_bytes(b"")
    (tmp_path / "a.tar.gz").write_bytes(b"")
    refused(tmp_path / "a.zip", tmp_path / "out", "^corrupt archive: ")
    refused(tmp_path / "a.tar.gz", tmp_path / "out", "^corrupt archive: ")


def test_unknown_suffix_and_non_empty_dest(tmp_path):
    with pytest.raises(ArchiveError, match="unsupported archive"):
        extract(tmp_path / "a.rar", tmp_path / "out")
    src = make_zip(tmp_path / "a.zip", {"x.c": b""})
    (tmp_path / "full").mkdir()
    (tmp_path / "full/keep").write_text("mine")
    with pytest.raises(FileExistsError):
        extract(src, tmp_path / "full")
    assert (tmp_path / "full/keep").read_text() == "mine"


# --- names --------------------------------------------------------------------------

def test_student_name_and_is_archive(tmp_path):
    assert student_name(Path("alice.tar.gz")) == "alice"
    assert student_name(Path("Bob.TGZ")) == "Bob"
    assert student_name(Path("carol.v2.zip")) == "carol.v2"
    assert student_name(Path("dave.tar")) == "dave"
    assert student_name(Path(os.fsdecode(b"caf\xe9.zip"))) == "caf\ufffd"
    for name in ["a.zip", "b.tar.gz", "c.tgz", "d.tar", "E.ZIP"]:
        (tmp_path / name).write_bytes(b"")
        assert is_archive(tmp_path / name)
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / "folder.zip").mkdir()
    assert not is_archive(tmp_path / "notes.txt")
    assert not is_archive(tmp_path / "folder.zip")
    assert not is_archive(tmp_path / "missing.zip")
