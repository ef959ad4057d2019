"""Write a file so that readers see the old content or the new, never half of it.

A crash or Ctrl-C in the middle of writing must not leave a gradebook that
looks complete: the text goes to a temp file in the same folder, is synced,
and is renamed over the target in one step.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def write_atomic(path: Path, content: str | Iterable[str]) -> None:
    """`content` is one string or pieces of text (a streamed format); it is written as UTF-8."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            for piece in [content] if isinstance(content, str) else content:
                f.write(piece.encode("utf-8", "replace"))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
