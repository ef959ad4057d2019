"""Safe extraction of one student's archive (.zip, .tar.gz, .tgz, .tar).

A student archive is untrusted input, so nothing in it is taken on faith:

* Every entry is checked before anything is written. Absolute paths, `..`
  components, links (tar symlinks and hardlinks, zip entries whose mode says
  S_IFLNK), devices, fifos and sockets, encrypted zip entries, and a name that
  is both a file and a folder all refuse the whole archive. A half-trusted
  archive is worse than a refused one: the student sees the reason and can fix it.
* Size is limited twice. The sizes the headers declare are summed first, so an
  obvious bomb is refused before anything is decompressed. Then the bytes
  actually written are counted, and extraction stops as soon as they pass the
  limit, whatever the headers said.
* Entries whose name holds a NUL, CR or LF are skipped, not refused: they cannot
  be a C source the grader needs, and they would break logs and reports. macOS
  junk (`__MACOSX/`, `.DS_Store`, AppleDouble `._*` files) is skipped too.
* Zip names with backslashes (written by some Windows tools) are read as folders.
* Files get mode 0644, or 0755 when the archive marks them executable; folders
  get 0755. Owners, times and other mode bits in the archive are ignored.
* A single top-level folder wrapping everything (`alice/master.c`) is unwrapped,
  because students often zip their folder rather than its contents.

On any error the destination is emptied again, so a refused or corrupt archive
never leaves half a submission behind to be graded.
"""
from __future__ import annotations

import gzip
import lzma
import os
import shutil
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

MAX_FILES = 1000
MAX_BYTES = 50 * 1024 * 1024

_SUFFIXES = {".tar.gz": "tar", ".tgz": "tar", ".tar": "tar", ".zip": "zip"}
_CHUNK = 64 * 1024
_BAD_CHARS = ("\x00", "\n", "\r")
# What the archive libraries raise when the bytes are not a well-formed archive.
_CORRUPT = (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error,
            gzip.BadGzipFile, lzma.LZMAError, UnicodeDecodeError)


class ArchiveError(Exception):
    """The archive is unsafe, too large or unreadable. str() is one line meant for the student."""


@dataclass(frozen=True)
class _Entry:
    parts: tuple[str, ...]
    is_dir: bool
    executable: bool
    member: Any  # the ZipInfo or TarInfo to open when writing


def is_archive(path: Path) -> bool:
    """True for a regular file whose name ends in a supported suffix (checked case-insensitively).

    The name decides, not the content, so a corrupt `.zip` is still an archive
    and gets reported as corrupt instead of being silently ignored.
    """
    return _kind(path.name) is not None and path.is_file()


def student_name(path: Path) -> str:
    """The file name without its archive suffix, made displayable: `alice.tar.gz` -> `alice`."""
    name = path.name
    for suffix in _SUFFIXES:
        if len(name) > len(suffix) and name[-len(suffix):].lower() == suffix:
            name = name[:-len(suffix)]
            break
    return display_name(name)


def display_name(name: str) -> str:
    """`name` with undecodable bytes and control characters replaced by U+FFFD.

    os.fsdecode turns bytes that are not UTF-8 into lone surrogates, which cannot
    be printed or written to JSON. The result is safe to show and to use as a
    folder name; the original name is still needed to open the original path.
    """
    return "".join("\ufffd" if "\ud800" <= c <= "\udfff" or c < " " or c == "\x7f" else c
                   for c in name)


def extract(archive: Path, dest: Path, *, max_files: int = MAX_FILES,
            max_bytes: int = MAX_BYTES) -> None:
    """Extract `archive` into `dest`, which must not exist yet or be an empty folder.

    Raises ArchiveError for an unsafe, oversized, corrupt or unsupported archive,
    and leaves `dest` empty in that case. `max_files` counts every entry,
    including folders and skipped junk.
    """
    kind = _kind(archive.name)
    if kind is None:
        raise ArchiveError(f"unsupported archive {_show(archive.name)}: "
                           "expected .zip, .tar.gz, .tgz or .tar")
    dest.mkdir(parents=True, exist_ok=True)
    if dest.is_symlink() or any(dest.iterdir()):
        raise FileExistsError(f"extraction folder {dest} must be new or empty")
    try:
        if kind == "zip":
            with zipfile.ZipFile(archive) as zf:
                _write(dest, _zip_entries(zf, max_files, max_bytes), zf.open, max_bytes)
        else:
            with _open_tar(archive) as tf:
                _write(dest, _tar_entries(tf, max_files, max_bytes), tf.extractfile, max_bytes)
    except BaseException as exc:
        _empty(dest)
        if isinstance(exc, _CORRUPT):
            raise ArchiveError(f"corrupt archive: {_one_line(exc)}") from exc
        if isinstance(exc, NotImplementedError):  # e.g. a zip compression method Python lacks
            raise ArchiveError(f"unsupported archive: {_one_line(exc)}") from exc
        raise


def _kind(name: str) -> str | None:
    for suffix, kind in _SUFFIXES.items():
        if len(name) > len(suffix) and name[-len(suffix):].lower() == suffix:
            return kind
    return None


def _open_tar(archive: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(archive, "r:*")  # "r:*" detects gzip (and bz2/xz) by content
    except tarfile.ReadError as exc:  # its message lists every method tried: too long to show
        raise ArchiveError("corrupt archive: not a readable .tar or .tar.gz file") from exc


def _zip_entries(zf: zipfile.ZipFile, max_files: int, max_bytes: int) -> list[_Entry]:
    infos = zf.infolist()  # the central directory, already read: count before anything else
    _check_count(len(infos), max_files)
    declared, entries = 0, []
    for info in infos:
        name = info.filename.replace("\\", "/")
        parts = _safe_parts(name)
        mode = info.external_attr >> 16  # Unix mode when the zip was made on Unix, else 0
        if stat.S_ISLNK(mode):
            _refuse(name, "is a symbolic link")
        if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
            _refuse(name, "is a device, fifo or socket")
        if info.flag_bits & 0x1:
            raise ArchiveError(f"unsupported archive: entry {_show(name)} is password-protected")
        is_dir = info.is_dir() or stat.S_ISDIR(mode)
        if not is_dir:
            declared += info.file_size
            _check_size(declared, max_bytes)
        entries.append(_Entry(parts, is_dir, bool(mode & 0o111), info))
    return _keep(entries)


def _tar_entries(tf: tarfile.TarFile, max_files: int, max_bytes: int) -> list[_Entry]:
    # Iterating reads headers lazily, so a limit trips before the rest of a huge
    # (or gzip-bombed) archive is decompressed just to skip over it.
    count, declared, entries = 0, 0, []
    for member in tf:
        count += 1
        _check_count(count, max_files)
        parts = _safe_parts(member.name)
        if member.issym():
            _refuse(member.name, "is a symbolic link")
        if member.islnk():
            _refuse(member.name, "is a hard link")
        if member.ischr() or member.isblk() or member.isfifo():
            _refuse(member.name, "is a device or fifo")
        if not (member.isreg() or member.isdir()):
            _refuse(member.name, "has an unsupported entry type")
        if member.isreg():
            declared += member.size
            _check_size(declared, max_bytes)
        entries.append(_Entry(parts, member.isdir(), bool(member.mode & 0o111), member))
    return _keep(entries)


def _safe_parts(name: str) -> tuple[str, ...]:
    if name.startswith("/"):
        _refuse(name, "is an absolute path")
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if ".." in parts:
        _refuse(name, "points outside the submission folder ('..')")
    return parts


def _keep(entries: Iterable[_Entry]) -> list[_Entry]:
    """Drop skipped entries (see module docstring), then unwrap a single top-level folder."""
    kept = [e for e in entries if e.parts and not _skipped(e.parts)]
    tops = {e.parts[0] for e in kept}
    if len(tops) != 1 or any(len(e.parts) == 1 and not e.is_dir for e in kept):
        return kept
    return [replace(e, parts=e.parts[1:]) for e in kept if len(e.parts) > 1]


def _skipped(parts: tuple[str, ...]) -> bool:
    return (any(c in p for p in parts for c in _BAD_CHARS)
            or "__MACOSX" in parts
            or parts[-1] == ".DS_Store"
            or parts[-1].startswith("._"))


def _write(dest: Path, entries: list[_Entry], opener: Callable[[Any], IO[bytes]],
           max_bytes: int) -> None:
    files: dict[tuple[str, ...], _Entry] = {}
    dirs: set[tuple[str, ...]] = set()
    for e in entries:
        dirs.update(e.parts[:i] for i in range(1, len(e.parts)))
        if e.is_dir:
            dirs.add(e.parts)
        else:  # a repeated file name: the later entry wins, as with tar itself
            files.pop(e.parts, None)
            files[e.parts] = e
    clash = dirs & files.keys()
    if clash:
        _refuse("/".join(min(clash)), "is both a file and a folder")

    for parts in sorted(dirs, key=len):  # parents first
        folder = dest.joinpath(*parts)
        folder.mkdir()
        os.chmod(folder, 0o755)
    written = 0
    for e in files.values():
        mode = 0o755 if e.executable else 0o644
        # O_NOFOLLOW: dest is fresh and no link is ever extracted, but be certain.
        fd = os.open(dest.joinpath(*e.parts),
                     os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as out, opener(e.member) as src:
            os.fchmod(out.fileno(), mode)
            while chunk := src.read(_CHUNK):
                written += len(chunk)
                _check_size(written, max_bytes)
                out.write(chunk)


def _check_count(count: int, max_files: int) -> None:
    if count > max_files:
        raise ArchiveError(f"archive has more than {max_files} entries")


def _check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        limit = (f"{max_bytes / 2**20:g} MiB" if max_bytes >= 2**20 else f"{max_bytes} bytes")
        raise ArchiveError(f"archive expands to more than {limit}")


def _refuse(name: str, why: str) -> None:
    raise ArchiveError(f"unsafe archive: entry {_show(name)} {why}")


def _show(name: str) -> str:
    return repr(display_name(name))


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def _empty(dest: Path) -> None:
    for child in dest.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
