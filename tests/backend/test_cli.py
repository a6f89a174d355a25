"""The `maily` CLI: validate and run exit with the outcome, and run prints each node's progress."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.flows.fakes import edge, graph, node

MAILY = [sys.executable, "-m", "backend.cli"]


def cli_data_dir(tmp_path: Path) -> Path:
    """The test's MAILY_DATA_DIR (its embedded PostgreSQL with it), outside pytest's tmp tree:
    as root the server runs as another user, and every pytest session started on the machine
    makes /tmp/pytest-of-root private again. Removed after the test (`_cli_data_dirs`)."""
    return Path(tempfile.gettempdir()) / f"maily-cli-{hashlib.sha1(str(tmp_path).encode()).hexdigest()[:12]}"


@pytest.fixture(autouse=True)
def _cli_data_dirs(tmp_path):
    yield
    shutil.rmtree(cli_data_dir(tmp_path), ignore_errors=True)


def maily(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MAILY_DATA_DIR": str(cli_data_dir(tmp_path)), "MAILY_PREFECT": "never", "COLUMNS": "200"}
    env.pop("MAILY_DATABASE_URL", None)   # the default: the embedded PostgreSQL
    return subprocess.run([*MAILY, *args], capture_output=True, text=True, env=env, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])


def write(tmp_path: Path, doc) -> str:
    path = tmp_path / "graph.json"
    path.write_text(json.dumps(doc))
    return str(path)


def test_validate_lists_every_problem_and_exits_1(tmp_path):
    doc = graph([node("a", "data.set"), node("b", "nope.unknown")], [edge("a", "ghost")])
    result = maily("validate", write(tmp_path, doc), tmp_path=tmp_path)
    assert result.returncode == 1
    for code in ("no_trigger", "unknown_type", "dangling_edge"):
        assert code in result.stdout
    assert "node b" in result.stdout


def test_validate_exits_0_on_a_valid_graph(tmp_path):
    doc = graph([node("start", "trigger.manual"), node("a", "data.set")], [edge("start", "a")])
    result = maily("validate", write(tmp_path, doc), tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout
    assert "0 error(s)" in result.stdout


def test_validate_refuses_malformed_json_with_a_clear_message(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"nodes": [')
    result = maily("validate", str(path), tmp_path=tmp_path)
    assert result.returncode == 2 and "line 1" in result.stderr


def test_run_prints_progress_per_node_and_the_output(tmp_path):
    doc = graph([node("start", "trigger.manual"), node("hello", "data.set", values={"msg": "hi {{ trigger.name }}",
                                                                                 "n": "{{ trigger.n + 1 }}"})],
                [edge("start", "hello")])
    result = maily("run", write(tmp_path, doc), "--input", "name=Ada", "--input", "n=41", tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "succeeded  hello" in result.stdout
    assert '"msg": "hi Ada"' in result.stdout and '"n": 42' in result.stdout


def test_run_exits_1_when_a_node_fails(tmp_path):
    doc = graph([node("start", "trigger.manual"), node("bad", "data.set", values={"x": "{{ trigger.missing.x }}"})],
                [edge("start", "bad")])
    result = maily("run", write(tmp_path, doc), tmp_path=tmp_path)
    assert result.returncode == 1
    assert "failed     bad" in result.stdout


def test_migrate_then_seed_demo_prints_how_to_sign_in(tmp_path):
    assert maily("migrate", tmp_path=tmp_path).returncode == 0
    result = maily("seed-demo", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "demo@maily.local / demo" in result.stdout and "mf_" in result.stdout
