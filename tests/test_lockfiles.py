"""The lock files pin what pyproject.toml's ranges allow (run `make lock` after changing them).

requirements.lock is the runtime set (the Docker image), requirements-dev.lock adds the test
tools (`make run`, `make test`); the two agree on every package they share.
"""
import tomllib
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent


def pins(name):
    pinned = {}
    for line in (REPO / name).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        requirement = Requirement(line)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", line
        pinned[canonicalize_name(requirement.name)] = (specifier.version, requirement.marker)
    return pinned


def applies(requirement):
    return requirement.marker is None or requirement.marker.evaluate(default_environment())


def assert_pinned_within_ranges(requirements, pinned):
    for text in requirements:
        requirement = Requirement(text)
        if not applies(requirement):
            continue
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement.name} is not in the lock: run make lock"
        version, _marker = pinned[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{requirement.name}=={version} is outside {requirement.specifier}: run make lock"
        )


PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def test_runtime_lock_pins_every_runtime_dependency_within_its_range():
    assert_pinned_within_ranges(PROJECT["dependencies"], pins("requirements.lock"))


def test_dev_lock_pins_runtime_and_dev_dependencies_within_their_ranges():
    requirements = PROJECT["dependencies"] + PROJECT["optional-dependencies"]["dev"]
    assert_pinned_within_ranges(requirements, pins("requirements-dev.lock"))


def test_the_two_locks_agree_on_shared_packages():
    runtime, dev = pins("requirements.lock"), pins("requirements-dev.lock")
    assert set(runtime) <= set(dev)
    assert {name: runtime[name][0] for name in runtime} == {name: dev[name][0] for name in runtime}
