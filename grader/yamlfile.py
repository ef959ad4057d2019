"""Load instructor-written YAML (rubrics, assignment.yaml) and report mistakes by line.

An instructor who mistypes `pionts` should be told `rubric.yaml:7: ...`, not
shown a pydantic traceback. PyYAML's constructed data forgets where each value
came from, so we compose the node tree ourselves, record the line of every
mapping key and sequence item under its path tuple, and translate pydantic's
error locations back into those lines.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

__all__ = ["ConfigError", "LineIndex", "format_errors", "load_yaml", "read_bytes", "validate"]

M = TypeVar("M", bound=BaseModel)

_MERGE_TAG = "tag:yaml.org,2002:merge"


class ConfigError(Exception):
    """A configuration file is unusable; str() is one `path:line: problem` per line.

    `problems` keeps the individual lines so callers can count or re-render them.
    """

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class LineIndex(dict[tuple, int]):
    """Maps a path into the loaded data, e.g. ('checks', 'build', 'points'), to a 1-based line.

    Keys of a mapping are indexed at the key's line, sequence items at the
    item's first line, and the document itself under ().
    """

    def nearest(self, loc: tuple) -> int | None:
        """The line of the deepest indexed prefix of `loc`.

        Pydantic locations can run deeper than the data (a missing field, a
        '[key]' marker, a union branch name), so we back off towards the root.
        """
        for end in range(len(loc), -1, -1):
            line = self.get(tuple(loc[:end]))
            if line is not None:
                return line
        return None


def _index_lines(
    loader: yaml.SafeLoader, root: yaml.Node
) -> tuple[LineIndex, list[tuple[int, str]]]:
    """Walk the composed tree; return the line index and any duplicate-key problems.

    This runs before construction because SafeConstructor flattens merge keys
    in place, after which a legitimate `<<` override would look like a
    duplicate. Duplicate keys are reported because PyYAML silently keeps the
    last one, which turns a copy-paste slip into a wrong grade.
    Each node is descended into once, so aliases cannot loop or explode.
    """
    index = LineIndex()
    duplicates: list[tuple[int, str]] = []
    index[()] = root.start_mark.line + 1
    seen: set[int] = set()

    def walk(node: yaml.Node, path: tuple) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first_line: dict[Any, int] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                    continue  # complex keys are rejected by the constructor; merges are flattened by it
                key = loader.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                if key in first_line:
                    duplicates.append(
                        (line, f"duplicate key {key!r} (first defined at line {first_line[key]})")
                    )
                    continue
                first_line[key] = line
                index[path + (key,)] = line
                walk(value_node, path + (key,))
        elif isinstance(node, yaml.SequenceNode):
            for position, item in enumerate(node.value):
                index[path + (position,)] = item.start_mark.line + 1
                walk(item, path + (position,))

    walk(root, ())
    return index, duplicates


def read_bytes(path: Path) -> bytes:
    """The file's bytes, with a missing or unreadable file reported as ConfigError."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror or exc}"]) from None


def load_yaml(path: Path) -> tuple[object, LineIndex]:
    """Parse `path` with the safe loader; return the data and where each part came from.

    Raises ConfigError for a missing, unreadable, empty or syntactically
    invalid file, and for duplicate mapping keys.
    """
    path = Path(path)
    raw = read_bytes(path)
    loader: yaml.SafeLoader | None = None
    try:
        loader = yaml.SafeLoader(raw)  # the reader decodes eagerly, so this can fail too
        root = loader.get_single_node()
        if root is None:
            raise ConfigError([f"{path}: empty file"])
        index, duplicates = _index_lines(loader, root)
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = exc.problem or exc.context or "unknown problem"
        raise ConfigError([f"{where}: invalid YAML: {problem}"]) from None
    except yaml.reader.ReaderError as exc:  # bytes that are not UTF-8/16 text
        raise ConfigError(
            [f"{path}: invalid YAML: {exc.reason} at byte {exc.position}"]
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{path}: invalid YAML: {exc}"]) from None
    except (ValueError, TypeError) as exc:  # SafeConstructor lets some of these escape (bad dates)
        raise ConfigError([f"{path}: invalid YAML value: {exc}"]) from None
    finally:
        if loader is not None:
            loader.dispose()
    if duplicates:
        raise ConfigError([f"{path}:{line}: {problem}" for line, problem in duplicates])
    if data is None:  # only `---` or `~`: nothing an instructor meant to write
        raise ConfigError([f"{path}: empty file"])
    return data, index


def _render_loc(loc: tuple, data: object) -> str:
    """`('checks', 'build', 'points')` -> `checks.build.points`; list positions as `[2]`.

    The data is walked alongside so an integer mapping key (`1: x` in YAML)
    is not mistaken for a list position. Pydantic's '[key]' marker is dropped:
    the message already says what is wrong with the key, and the line points at it.
    """
    text = ""
    node: object = data
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(node, list) and isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
        try:
            node = node[part]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            node = None
    return text


def format_errors(
    path: Path, error: ValidationError, index: LineIndex, data: object = None
) -> list[str]:
    """One `path:line: location: message` string per pydantic error, without repeats."""
    problems: list[str] = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        line = index.nearest(loc)
        where = f"{path}:{line}" if line is not None else str(path)
        location = _render_loc(loc, data)
        message = f"{where}: {location}: {item['msg']}" if location else f"{where}: {item['msg']}"
        if message not in problems:
            problems.append(message)
    return problems


def validate(path: Path, model_cls: type[M]) -> M:
    """Load `path` and validate it as `model_cls`, raising ConfigError with line numbers."""
    path = Path(path)
    data, index = load_yaml(path)
    try:
        return model_cls.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_errors(path, exc, index, data)) from None
