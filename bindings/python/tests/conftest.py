"""Shared fixtures: the repository, the ``policy-match`` command line to compare with,
and the built-in catalog."""

import json
import os
import pathlib
import subprocess

import pytest

import policy_match

REPO = pathlib.Path(__file__).resolve().parents[3]
AS_OF = "2025-06-30"


def _cli_path() -> pathlib.Path:
    """The CLI binary: ``$POLICY_MATCH_CLI`` (``ci.sh`` builds it and says where), else
    the workspace's dev build, built here if needed."""
    given = os.environ.get("POLICY_MATCH_CLI")
    if given:
        return pathlib.Path(given)
    subprocess.run(
        ["cargo", "build", "--locked", "--quiet", "-p", "policy-match-cli"],
        cwd=REPO,
        check=True,
    )
    meta = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps", "--locked"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    target = pathlib.Path(json.loads(meta.stdout)["target_directory"])
    return target / "debug" / "policy-match"


class Cli:
    """Runs ``policy-match`` from the repository root."""

    def __init__(self, path: pathlib.Path):
        self.path = path

    def run(self, *args: str, expect: int = 0) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [str(self.path), *args], cwd=REPO, capture_output=True, text=True
        )
        assert done.returncode == expect, (args, done.returncode, done.stderr)
        return done

    def json(self, *args: str):
        return json.loads(self.run(*args).stdout)


@pytest.fixture(scope="session")
def cli() -> Cli:
    path = _cli_path()
    assert path.is_file(), f"no policy-match binary at {path}"
    return Cli(path)


@pytest.fixture(scope="session")
def catalog() -> policy_match.Catalog:
    return policy_match.Catalog.builtin()


def fixture_profiles() -> list:
    """The profiles of ``fixtures/enterprises.jsonl``, as parsed JSON objects."""
    lines = (REPO / "fixtures" / "enterprises.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in lines.splitlines() if line.strip()]
