"""The laptops students have: the course's whole dependency set resolves to wheels, with
pip's own resolver, for Linux x86_64, macOS arm64 and Windows on Python 3.11, 3.12 and 3.13,
and `make` picks a Python it supports or says which it needs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from testkit.course import ROOT
from testkit.servers import unavailable

PYTHONS = ["3.11", "3.12", "3.13"]
# pip's --platform takes wheel tags as they are: list the ones such a machine accepts.
PLATFORMS = {
    "linux-x86_64": ([f"manylinux_2_{minor}_x86_64" for minor in (28, 27, 17)] + ["manylinux2014_x86_64"],
                     {"sys_platform": "linux", "platform_system": "Linux",
                      "platform_machine": "x86_64", "os_name": "posix"}),
    "macos-arm64": ([f"macosx_{major}_0_arm64" for major in (14, 13, 12, 11)],
                    {"sys_platform": "darwin", "platform_system": "Darwin",
                     "platform_machine": "arm64", "os_name": "posix"}),
    "windows-x86_64": (["win_amd64"], {"sys_platform": "win32", "platform_system": "Windows",
                                       "platform_machine": "AMD64", "os_name": "nt"}),
}
TENSORFLOW = {"linux-x86_64": "tensorflow-cpu", "macos-arm64": "tensorflow",
              "windows-x86_64": "tensorflow"}
CASES = [(platform, python) for platform in PLATFORMS for python in PYTHONS]


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def requirements_for(platform: str, python: str) -> list[str]:
    """Every requirement of the course and its extras that applies on that machine, without
    markers (pip would judge markers by this machine, not the target)."""
    environment = {**PLATFORMS[platform][1], "python_version": python,
                   "python_full_version": f"{python}.0", "implementation_name": "cpython",
                   "platform_python_implementation": "CPython"}
    meta = project()
    wanted = []
    for text in meta["dependencies"] + sum(meta["optional-dependencies"].values(), []):
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate({**environment, "extra": ""}):
            requirement.marker = None
            wanted.append(str(requirement))
    return wanted


def resolve(platform: str, python: str) -> subprocess.CompletedProcess:
    platforms = [option for tag in PLATFORMS[platform][0] for option in ("--platform", tag)]
    return subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
         "--only-binary=:all:", *platforms, "--python-version", python, "--implementation", "cp",
         "--report", "-", *requirements_for(platform, python)],
        capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def resolved():
    """pip's report for every platform and Python, resolved in parallel (it waits on PyPI)."""
    try:
        urllib.request.urlopen("https://pypi.org/simple/pip/", timeout=20).close()
    except OSError as error:
        unavailable(f"PyPI cannot be reached to resolve the dependencies ({error})")
    with ThreadPoolExecutor(len(CASES)) as pool:
        return dict(zip(CASES, pool.map(lambda case: resolve(*case), CASES)))


@pytest.mark.parametrize("platform, python", CASES)
def test_the_whole_dependency_set_has_wheels(resolved, platform, python):
    assert SpecifierSet(project()["requires-python"]).contains(python)
    result = resolved[platform, python]
    assert result.returncode == 0, f"no install on {platform}, Python {python}:\n{result.stderr[-3000:]}"
    installed = {canonicalize_name(item["metadata"]["name"]): item["metadata"]["version"]
                 for item in json.loads(result.stdout)["install"]}
    assert installed[TENSORFLOW[platform]].startswith("2.21.")
    other = ({"tensorflow", "tensorflow-cpu"} - {TENSORFLOW[platform]}).pop()
    assert other not in installed, f"both TensorFlow distributions on {platform}"


def test_python_versions_without_tensorflow_wheels_are_refused():
    accepted = SpecifierSet(project()["requires-python"])
    assert not accepted.contains("3.10") and not accepted.contains("3.14")


def test_make_names_the_python_it_needs_when_none_is_found(tmp_path):
    """With only an unsupported python3 on PATH, `make` stops with one line saying which."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    old = bin_dir / "python3"
    old.write_text("#!/bin/sh\necho 'Python 3.10.12'; exit 1\n")  # fails the version check
    old.chmod(0o755)
    (tmp_path / "jupyterlab-settings").mkdir()
    (tmp_path / "jupyterlab-settings" / "overrides.json").write_text("{}")
    (tmp_path / "pyproject.toml").write_text("")
    result = subprocess.run(
        [shutil.which("make"), "-f", str(ROOT / "Makefile"), "-C", str(tmp_path), ".venv/.installed"],
        env={**os.environ, "PATH": str(bin_dir)},
        capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "needs Python 3.11, 3.12 or 3.13" in result.stdout + result.stderr
    assert not (tmp_path / ".venv").exists()
