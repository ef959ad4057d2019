"""What pyproject.toml cannot say: the top-level assignments/, rubrics/ and docker/ ship inside
the package as grader/bundled/..., so an installed `grade` grades on its own while the
checkout keeps its layout (grader/locations.py looks in both places)."""
from setuptools import find_namespace_packages, setup

BUNDLED = {f"grader.bundled.{folder}": folder for folder in ("assignments", "rubrics", "docker")}

setup(packages=find_namespace_packages(include=["grader*"], exclude=["*__pycache__*"]) + list(BUNDLED),
      package_dir=BUNDLED)
