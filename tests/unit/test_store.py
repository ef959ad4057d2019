"""store: the per-submission result cache on disk, and the content hash its key rests on."""
from __future__ import annotations

import os

from grader.models import HarnessReport
from grader.store import CacheKey, ResultStore, StoredResult, content_hash

KEY = CacheKey(content="c0ffee", assignment="demo", harness="h1")


def folder(root, files: dict[str, str]):
    root.mkdir(parents=True)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_content_hash_sees_names_bytes_modes_and_links_but_not_times(tmp_path):
    a = folder(tmp_path / "a", {"master.c": "int main;", "sub/x.h": "#define X"})
    b = folder(tmp_path / "b", {"master.c": "int main;", "sub/x.h": "#define X"})
    os.utime(b / "master.c", (1, 1))
    assert content_hash(a) == content_hash(b)
    (b / "sub" / "x.h").write_text("#define Y")
    assert content_hash(a) != content_hash(b)
    c = folder(tmp_path / "c", {"master.c": "int main;", "sub/x.h": "#define X"})
    os.chmod(c / "master.c", 0o755)
    assert content_hash(a) != content_hash(c)
    d = folder(tmp_path / "d", {"master.c": "int main;", "sub/x.h": "#define X"})
    (d / "link").symlink_to("master.c")
    assert content_hash(a) != content_hash(d)
    e = folder(tmp_path / "e", {"renamed.c": "int main;", "sub/x.h": "#define X"})
    assert content_hash(a) != content_hash(e)


def test_put_then_get_round_trips_and_unknown_or_corrupt_is_none(tmp_path):
    store = ResultStore(tmp_path / "out")
    rec = StoredResult(student="ann b", key=KEY, report=HarnessReport(assignment="demo"), seconds=1.5)
    store.put(rec)
    assert store.get("ann b") == rec
    assert store.get("nobody") is None
    assert store.all() == [rec]
    store._path("broken").write_text("{not json")
    assert store.get("broken") is None and store.all() == [rec]
    assert not [p for p in store.dir.iterdir() if p.name.startswith(".tmp-")]   # writes are atomic renames


def test_a_key_differs_when_any_input_differs():
    assert KEY != KEY.model_copy(update={"limits": "Limits(wall_seconds=5)"})
    assert KEY != KEY.model_copy(update={"visible_only": True})
    assert KEY == CacheKey(**KEY.model_dump())
