"""Mutants as patches: `mutants/NAME.patch` plus `mutants/NAME.yaml` beside it.

A mutant is the reference with one realistic bug, so it is stored as that bug:
a unified diff against `reference/<language>/` (paths `a/FILE` / `b/FILE`, only
the files that differ) and a manifest naming its language and the checks it
must fail. `grade selftest` applies the patch to a fresh copy of the reference.

Diffs are written with `diff -u` and applied with GNU `patch --fuzz=0`: both are
on every machine with a C toolchain (diffutils is essential in Debian, and
build-essential pulls in patch), they agree on every corner of the format (a
file without a final newline), `patch` needs no repository around the target
(unlike `git apply`, which reinterprets paths inside one), and its refusal names
the file and the hunk. Fuzz 0 means a patch whose context drifted from the
reference is reported, never applied somewhere nearby.

    python3 -m grader.mutants convert assignments/NAME/mutants/MUTANT/ ...
    python3 -m grader.mutants unpack assignments/NAME/mutants/MUTANT.patch

`convert` turns an old-style folder (a full copy of the reference plus
`manifest.yaml`) into the patch and manifest, checks that the patch gives the
folder's files back byte for byte, then removes the folder. `unpack` is its
inverse, for editing an existing mutant.
"""
from __future__ import annotations

import argparse
import filecmp
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from grader.yamlfile import ConfigError, validate

LANGUAGES = ("c", "python")
MANIFEST = "manifest.yaml"          # the manifest inside an old-style mutant folder


class MutantSpec(BaseModel):
    """The schema of mutants/NAME.yaml."""
    model_config = ConfigDict(extra="forbid")
    description: str
    fails: list[str]
    language: Literal["c", "python"]


class FolderManifest(BaseModel):
    """The schema of an old-style folder's manifest.yaml (`language` was implied by its files)."""
    model_config = ConfigDict(extra="forbid")
    description: str
    fails: list[str]
    language: Literal["c", "python"] | None = None


class MutantError(Exception):
    """A mutant cannot be used or converted; str() is one line naming the file."""


@dataclass(frozen=True)
class Mutant:
    name: str
    patch: Path
    manifest: Path

    @classmethod
    def at(cls, mutants_dir: Path, name: str) -> Mutant:
        return cls(name, mutants_dir / f"{name}.patch", mutants_dir / f"{name}.yaml")

    def spec(self) -> MutantSpec:
        """The validated manifest; ConfigError names the file and line."""
        return validate(self.manifest, MutantSpec)


def find(mutants_dir: Path) -> tuple[list[Mutant], list[tuple[Path, str]]]:
    """The mutants in a folder, and (entry, one-line problem) for every stray or unpaired entry there."""
    if not mutants_dir.is_dir():
        return [], []
    found, problems = [], []
    entries = sorted(mutants_dir.iterdir())
    names = {p.stem for p in entries if p.suffix in (".patch", ".yaml")}
    for name in sorted(names):
        m = Mutant.at(mutants_dir, name)
        if not m.patch.is_file():
            problems.append((m.manifest, f"{m.manifest}: no {m.patch.name} beside it"))
        elif not m.manifest.is_file():
            problems.append((m.patch, f"{m.patch}: no {m.manifest.name} beside it (description, fails, language)"))
        else:
            found.append(m)
    for p in entries:
        if p.is_dir() and p.name != "__pycache__":
            problems.append((p, f"{p}: a mutant folder in the old format; "
                                f"turn it into a patch with `grade mutant convert {p}/`"))
        elif p.is_file() and p.suffix not in (".patch", ".yaml"):
            problems.append((p, f"{p}: not a mutant (mutants are NAME.patch with NAME.yaml)"))
    return found, problems


# ------------------------------------------------------------------ applying
def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise MutantError(f"the `{name}` tool is not installed on this machine (apt-get install {package})")
    return path


def patched_files(patch: Path) -> list[str]:
    """The files a patch changes, from its `+++ b/FILE` lines."""
    try:
        text = patch.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise MutantError(f"{patch}: cannot read: {e}") from None
    targets = re.findall(r"^\+\+\+ (\S*)", text, re.MULTILINE)
    files = [t.removeprefix("b/") for t in targets if t.startswith("b/")]
    if not files or len(files) != len(targets):
        raise MutantError(f"{patch}: not a unified diff whose paths are all b/FILE (see docs/authoring.md)")
    return files


def apply(patch: Path, reference: Path, dest: Path) -> Path:
    """A copy of `reference` at `dest` with `patch` applied; MutantError names the file and hunk."""
    targets = patched_files(patch)
    known = {p.name for p in reference.iterdir() if p.is_file()}
    for f in targets:
        if f not in known:
            raise MutantError(f"{patch}: changes {f}, which is not a file of {reference}")
    shutil.copytree(reference, dest, ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run(
        [_tool("patch", "patch"), "--batch", "--forward", "--strip=1", "--fuzz=0",
         "--no-backup-if-mismatch", "--reject-file=-", f"--directory={dest}", f"--input={patch.resolve()}"],
        capture_output=True, text=True)
    if done.returncode != 0:
        raise MutantError(f"{patch}: does not apply to {reference}: {_refusal(done.stdout + done.stderr)}")
    return dest


def _refusal(said: str) -> str:
    """patch's complaint in one line: 'master.c hunk #1 (line 41)' per failed hunk, else its own words."""
    failed, current = [], "?"
    for line in said.splitlines():
        if m := re.match(r"patching file (.+)", line):
            current = m.group(1).strip("'")
        elif m := re.match(r"Hunk #(\d+) FAILED at (\d+)", line):
            failed.append(f"{current} hunk #{m.group(1)} (line {m.group(2)})")
    if failed:
        return "its context no longer matches at " + ", ".join(failed)
    return " ".join(line.strip() for line in said.splitlines() if line.strip()) or "patch failed"


# ------------------------------------------------------------------ converting
def _program_files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.is_file() and p.name != MANIFEST}


def _reference_for(folder: Path, reference_root: Path, language: str | None) -> tuple[str, Path]:
    """The reference the folder copies: the one with the same set of program files."""
    if folder.is_dir() and any(p.is_dir() and p.name != "__pycache__" for p in folder.iterdir()):
        raise MutantError(f"{folder}: holds sub-folders; a mutant is a flat copy of reference/<language>/")
    files = _program_files(folder)
    matches = [lang for lang in LANGUAGES
               if (reference_root / lang).is_dir() and _program_files(reference_root / lang) == files]
    if language is not None:
        matches = [m for m in matches if m == language]
    if len(matches) != 1:
        have = ", ".join(f"{lang}: {sorted(_program_files(reference_root / lang))}"
                         for lang in LANGUAGES if (reference_root / lang).is_dir())
        raise MutantError(f"{folder}: its files {sorted(files)} are not those of exactly one reference "
                          f"{'(language ' + language + ') ' if language else ''}({have})")
    return matches[0], reference_root / matches[0]


def diff(reference: Path, folder: Path) -> str:
    """The unified diff that turns `reference` into `folder`, file by file in name order."""
    tool = _tool("diff", "diffutils")
    parts = []
    for name in sorted(_program_files(folder)):
        done = subprocess.run([tool, "-u", f"--label=a/{name}", f"--label=b/{name}",
                               str(reference / name), str(folder / name)], capture_output=True, text=True)
        if done.returncode > 1:
            raise MutantError(f"{folder / name}: diff failed: {done.stderr.strip()}")
        parts.append(done.stdout)
    return "".join(parts)


def _manifest_text(folder_manifest: Path, language: str) -> str:
    """The folder's manifest as written (comments and all), with its language added when missing."""
    spec = validate(folder_manifest, FolderManifest)
    text = folder_manifest.read_text()
    if spec.language is None:
        text = text.rstrip("\n") + f"\nlanguage: {language}\n"
    return text


def convert(folder: Path) -> Mutant:
    """Turn an old-style mutant folder into NAME.patch and NAME.yaml, then remove the folder.

    Idempotent: a folder already converted (gone, its patch and manifest present)
    is left as it is. The folder is removed only after the patch has been shown
    to give back every one of its files byte for byte.
    """
    folder = Path(folder)
    mutants_dir = folder.parent
    mutant = Mutant.at(mutants_dir, folder.name)
    if not folder.is_dir():
        if mutant.patch.is_file() and mutant.manifest.is_file():
            return mutant
        raise MutantError(f"{folder}: no such mutant folder")
    if mutants_dir.name != "mutants":
        raise MutantError(f"{folder}: not inside an assignment's mutants/ folder")
    language, reference = _reference_for(folder, mutants_dir.parent / "reference",
                                         validate(folder / MANIFEST, FolderManifest).language)
    body = diff(reference, folder)
    if not body:
        raise MutantError(f"{folder}: identical to {reference}: a mutant needs a bug")
    manifest_text = _manifest_text(folder / MANIFEST, language)
    with tempfile.TemporaryDirectory(prefix="ipcgrade-convert-") as tmp:
        patch = Path(tmp) / mutant.patch.name
        patch.write_text(body)
        back = apply(patch, reference, Path(tmp) / "applied")
        _, mismatch, errors = filecmp.cmpfiles(folder, back, sorted(_program_files(folder)), shallow=False)
        if mismatch or errors:
            raise MutantError(f"{folder}: the patch does not give back {mismatch + errors}; folder left as it is")
        mutant.patch.write_text(body)
        mutant.manifest.write_text(manifest_text)
    validate(mutant.manifest, MutantSpec)
    shutil.rmtree(folder)
    return mutant


def unpack(patch: Path) -> Path:
    """The inverse of convert: mutants/NAME/ with the patched files and manifest.yaml, for editing."""
    patch = Path(patch)
    mutant = Mutant.at(patch.parent, patch.stem)
    spec = mutant.spec()
    folder = patch.parent / mutant.name
    if folder.exists():
        raise MutantError(f"{folder}: already exists")
    reference = patch.parent.parent / "reference" / spec.language
    if not reference.is_dir():
        raise MutantError(f"{patch}: no {reference} to apply it to (a mutant lives in an assignment's mutants/ folder)")
    apply(mutant.patch, reference, folder)
    shutil.copy(mutant.manifest, folder / MANIFEST)
    mutant.patch.unlink()
    mutant.manifest.unlink()
    return folder


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(
        prog="grade mutant", description="Store mutants as patches against the reference (see docs/authoring.md).")
    sub = ap.add_subparsers(dest="action", required=True)
    sub.add_parser("convert", help="mutant folders (a full copy of the reference) -> NAME.patch + NAME.yaml") \
        .add_argument("folders", nargs="+", type=Path)
    sub.add_parser("unpack", help="NAME.patch -> a folder to edit; run convert on it afterwards") \
        .add_argument("patches", nargs="+", type=Path)
    args = ap.parse_args(argv)
    failed = 0
    for item in args.folders if args.action == "convert" else args.patches:
        try:
            if args.action == "convert":
                m = convert(item)
                print(f"{item}: -> {m.patch} and {m.manifest}")
            else:
                print(f"{item}: -> {unpack(item)}/ (edit, then convert it back)")
        except (MutantError, ConfigError) as e:
            print(f"error: {e}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
