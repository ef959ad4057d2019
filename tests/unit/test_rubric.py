"""Rubric loading: instructors must get `file:line:` messages, never tracebacks."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from grader.score.rubric import ConfigError, Rubric, cross_check, load_rubric, rubric_hash
from grader.yamlfile import load_yaml


def write(tmp_path: Path, text: str, name: str = "rubric.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def config_error(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_rubric(path)
    return str(caught.value)


VALID = """\
assignment: shm-handshake
checks:
  build: 1
  segment-private: {points: 2}
  handler-async-safe: {points: 0}
  cleanup:
    points: 1.5
"""


def test_valid_rubric_with_shorthand(tmp_path):
    rubric = load_rubric(write(tmp_path, VALID))
    assert rubric.assignment == "shm-handshake"
    assert list(rubric.checks) == ["build", "segment-private", "handler-async-safe", "cleanup"]
    assert rubric.checks["build"].points == 1.0
    assert rubric.checks["segment-private"].points == 2.0
    assert rubric.points("handler-async-safe") == 0.0
    assert rubric.points("not-listed") == 0.0
    assert rubric.total == 4.5


def test_line_index_records_keys_and_items(tmp_path):
    path = write(tmp_path, "a:\n  b:\n    - x\n    - y: 1\n")
    data, index = load_yaml(path)
    assert data == {"a": {"b": ["x", {"y": 1}]}}
    assert index[("a",)] == 1
    assert index[("a", "b")] == 2
    assert index[("a", "b", 0)] == 3
    assert index[("a", "b", 1, "y")] == 4
    assert index.nearest(("a", "b", 1, "y", "deeper")) == 4


def test_negative_points_reports_line(tmp_path):
    path = write(tmp_path, "assignment: x\nchecks:\n  build: 1\n  run:\n    points: -2\n")
    message = config_error(path)
    assert message == f"{path}:5: checks.run.points: Input should be greater than or equal to 0"


def test_negative_shorthand_falls_back_to_key_line(tmp_path):
    path = write(tmp_path, "assignment: x\nchecks:\n  build: -1\n")
    assert config_error(path) == (
        f"{path}:3: checks.build.points: Input should be greater than or equal to 0"
    )


def test_unknown_key_typo_reports_line(tmp_path):
    path = write(tmp_path, "assignment: x\nchecks:\n  build: 1\n  run:\n    pionts: 2\n")
    message = config_error(path)
    assert f"{path}:5: checks.run.pionts: Extra inputs are not permitted" in message.splitlines()
    # the missing real key is reported too, at the entry's line
    assert f"{path}:4: checks.run.points: Field required" in message.splitlines()


def test_unknown_top_level_key(tmp_path):
    path = write(tmp_path, "assignment: x\nchecks: {}\ncheks: {}\n")
    assert config_error(path) == f"{path}:3: cheks: Extra inputs are not permitted"


def test_one_line_per_problem(tmp_path):
    path = write(tmp_path, "checks:\n  a: true\n  b: '2'\n")
    lines = config_error(path).splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"{path}:1: assignment: Field required")
    assert any(line.startswith(f"{path}:2: checks.a") for line in lines)
    assert any(line.startswith(f"{path}:3: checks.b") for line in lines)


def test_bad_check_id(tmp_path):
    path = write(tmp_path, "assignment: x\nchecks:\n  build: 1\n  Segment_Private: 2\n")
    message = config_error(path)
    assert message.startswith(f"{path}:4: checks.Segment_Private: check id 'Segment_Private'")


def test_bad_yaml_syntax_reports_line(tmp_path):
    path = write(tmp_path, "assignment: x\nchecks:\n  build: 1\n  run: [1, 2\n  other: 3\n")
    message = config_error(path)
    assert message.startswith(f"{path}:5: invalid YAML: ")
    assert "\n" not in message


def test_duplicate_key_reports_both_lines(tmp_path):
    path = write(tmp_path, "assignment: x\nchecks:\n  build: 1\n  build: 2\n")
    assert config_error(path) == f"{path}:4: duplicate key 'build' (first defined at line 3)"


def test_merge_keys_are_not_duplicates(tmp_path):
    text = "base: &b {points: 1}\nassignment: x\nchecks:\n  build:\n    <<: *b\n    points: 2\n"
    data, _ = load_yaml(write(tmp_path, text))
    assert data["checks"]["build"] == {"points": 2}


def test_missing_file(tmp_path):
    path = tmp_path / "nope.yaml"
    assert config_error(path) == f"{path}: file not found"


@pytest.mark.parametrize("text", ["", "\n", "# only a comment\n", "---\n"])
def test_empty_file(tmp_path, text):
    path = write(tmp_path, text)
    assert config_error(path) == f"{path}: empty file"


def test_top_level_not_a_mapping(tmp_path):
    path = write(tmp_path, "- build\n- run\n")
    assert config_error(path).startswith(f"{path}:1: Input should be a valid dictionary")


def test_rubric_hash_is_sha256_of_bytes(tmp_path):
    path = write(tmp_path, VALID)
    assert rubric_hash(path) == hashlib.sha256(VALID.encode()).hexdigest()
    with pytest.raises(ConfigError):
        rubric_hash(tmp_path / "missing.yaml")


def test_cross_check_both_directions():
    rubric = Rubric.model_validate(
        {"assignment": "x", "checks": {"build": 1, "segment-privat": 2, "extra": 1}}
    )
    problems = cross_check(rubric, ["build", "segment-private", "unscored"])
    assert len(problems) == 4
    assert "'segment-privat'" in problems[0] and "did you mean 'segment-private'" in problems[0]
    assert "'extra'" in problems[1] and "no such check" in problems[1]
    assert "'segment-private'" in problems[2] and "not in the rubric" in problems[2]
    assert "'unscored'" in problems[3]


def test_cross_check_clean():
    rubric = Rubric.model_validate({"assignment": "x", "checks": {"build": 1, "run": 0}})
    assert cross_check(rubric, ["run", "build"]) == []


def test_validate_is_generic_and_renders_list_positions(tmp_path):
    from pydantic import BaseModel

    from grader.yamlfile import validate

    class Item(BaseModel):
        name: str

    class Doc(BaseModel):
        items: list[Item]

    path = write(tmp_path, "items:\n  - name: a\n  - nme: b\n", name="assignment.yaml")
    with pytest.raises(ConfigError) as caught:
        validate(path, Doc)
    assert str(caught.value) == f"{path}:3: items[1].name: Field required"
    assert validate(write(tmp_path, "items: [{name: a}]\n", "ok.yaml"), Doc).items[0].name == "a"
