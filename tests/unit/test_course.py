"""course.yaml and Locations: which assignments a command sees, and from where."""
import pytest

from grader.course import ENV, create_course, find_course, locations
from grader.locations import Locations
from grader.yamlfile import ConfigError


def _assignment(home, name, rubric=True):
    (home / "assignments" / name).mkdir(parents=True)
    (home / "assignments" / name / "assignment.yaml").write_text(f"name: {name}\ntitle: t\nprograms: [p]\n")
    if rubric:
        (home / "rubrics").mkdir(exist_ok=True)
        (home / "rubrics" / f"{name}.yaml").write_text(f"assignment: {name}\nchecks: {{build: 1}}\n")


@pytest.fixture(autouse=True)
def no_env_course(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)


def test_nearest_course_file_above_the_working_folder(tmp_path):
    (tmp_path / "course.yaml").write_text("# marker only\n")
    _assignment(tmp_path, "ping-lab")
    deep = tmp_path / "hw1" / "submit"
    deep.mkdir(parents=True)
    course = find_course(start=deep)
    assert course.root == tmp_path and course.how == str(tmp_path / "course.yaml")
    where = locations(start=deep)
    assert where.assignment_dir("ping-lab") == tmp_path / "assignments" / "ping-lab"
    assert "shm-handshake" in where.assignment_dirs(), "the bundled assignments stay visible"
    assert where.course.assignments == tmp_path / "assignments"


def test_option_beats_environment_beats_course_file(tmp_path, monkeypatch):
    a, b, c = (tmp_path / n for n in "abc")
    for d in (a, b, c):
        (d / "assignments").mkdir(parents=True)
    (c / "course.yaml").write_text("rubrics: marks\n")
    monkeypatch.setenv(ENV, str(b))
    assert find_course(a, start=c).root == a
    assert find_course(None, start=c).how == ENV
    monkeypatch.delenv(ENV)
    assert find_course(None, start=c).home.rubrics == c / "marks"
    assert find_course(None, start=tmp_path) is None


def test_course_overrides_a_bundled_assignment_and_rubric(tmp_path):
    _assignment(tmp_path, "shm-handshake", rubric=False)
    where = Locations.bundled(find_course(tmp_path).home)
    assert where.assignment_dir("shm-handshake") == tmp_path / "assignments" / "shm-handshake"
    assert where.rubric("shm-handshake") == Locations.bundled().rubric("shm-handshake"), "no course rubric: bundled"
    (tmp_path / "rubrics").mkdir()
    (tmp_path / "rubrics" / "shm-handshake.yaml").write_text("x")
    assert where.rubric("shm-handshake") == tmp_path / "rubrics" / "shm-handshake.yaml"


def test_bad_course_folders_are_one_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        find_course(tmp_path / "nope")
    with pytest.raises(ConfigError, match="not a course folder"):
        find_course(tmp_path)
    (tmp_path / "course.yaml").write_text("assignmnets: x\n")
    with pytest.raises(ConfigError, match=r"course.yaml:1: assignmnets"):
        find_course(tmp_path)


def test_create_course_writes_a_course_file_once(tmp_path):
    course = create_course(tmp_path / "c")
    assert (tmp_path / "c" / "course.yaml").is_file() and course.home.assignments.is_dir()
    (tmp_path / "c" / "course.yaml").write_text("assignment: ping-lab\n")
    assert create_course(tmp_path / "c").settings.assignment == "ping-lab"


def test_kit_home_replaces_the_bundled_set(tmp_path):
    _assignment(tmp_path, "ping-lab")
    where = Locations.of_home(tmp_path)
    assert list(where.assignment_dirs()) == ["ping-lab"]
    assert where.dockerfile == tmp_path / "docker" / "Dockerfile"


def test_grading_image_holds_the_course_assignments_in_place_of_bundled_ones(tmp_path):
    from grader.run import image
    bundled = Locations.bundled()
    _assignment(tmp_path, "shm-handshake")
    _assignment(tmp_path, "ping-lab")
    where = Locations.bundled(find_course(tmp_path).home)
    files = dict(image._context_files(where))
    assert files["assignments/ping-lab/assignment.yaml"] == tmp_path / "assignments" / "ping-lab" / "assignment.yaml"
    assert files["assignments/shm-handshake/assignment.yaml"].is_relative_to(tmp_path)
    assert not any(p.is_relative_to(bundled.homes[0].assignments / "shm-handshake") for p in files.values())
    assert image.image_tag(where) != image.image_tag(bundled)
    # cached results of the assignments the course leaves alone stay valid
    assert image.harness_hash("uds-echo", where) == image.harness_hash("uds-echo", bundled)
    assert image.harness_hash("shm-handshake", where) != image.harness_hash("shm-handshake", bundled)
