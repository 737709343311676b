"""post_gen_project.py runs copier's verification task (hooks/verify.py), VERIFY honored."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from cookiecutter.exceptions import FailedHookException

from conftest import need

SKIP_LINE = "verify: skipped (VERIFY=off); run `make verify` in the project to check it later"
# No Docker client by this name: the Docker steps report "skip" at once, so these
# tests time the Go steps only (Docker builds are the copier-side tests' job).
NO_DOCKER = "no-such-docker-client"


def test_verify_off_prints_the_skip_line(bake: Any, capfd: pytest.CaptureFixture[str]) -> None:
    result = bake({})
    out = capfd.readouterr().out
    assert result.exception is None, result.exception
    assert SKIP_LINE in out
    assert "verify: [" not in out, "no step ran"
    assert (result.project_path / "main.go").is_file()


@pytest.mark.slow
@pytest.mark.parametrize(
    "answers", [pytest.param({}, id="http-defaults"), pytest.param({"app_kind": "cli", "tzdata": "none"}, id="cli")]
)
def test_verify_on_runs_the_go_steps(
    answers: dict[str, Any], bake: Any, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    need("go", "the verification hook builds the generated service")
    monkeypatch.setenv("VERIFY", "on")
    monkeypatch.setenv("DOCKER", NO_DOCKER)
    result = bake(answers)
    out = capfd.readouterr().out
    assert result.exception is None, result.exception
    for step in ("go checks", "lint", "static build"):
        assert out.count(f"verify: [ ok ] {step} ") == 1, f"{step} is reported once:\n{out}"
    assert f"no `{NO_DOCKER}` client on PATH" in out
    assert "3 ok, 0 failed, 5 skipped: verified, except the skipped steps" in out
    # Without Docker the host runs `make build`, which writes bin/ as it always does; git ignores it.
    assert "/bin/" in (result.project_path / ".gitignore").read_text().splitlines()


def test_verify_strict_fails_the_generation_and_leaves_nothing(
    bake: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """Strict mode with nothing to check with (no Go, no Docker): every step skips, the
    hook exits 1 and cookiecutter removes the project, as copier does after a failed task."""
    monkeypatch.setenv("VERIFY", "strict")
    monkeypatch.setenv("DOCKER", NO_DOCKER)
    path = [p for p in os.environ["PATH"].split(os.pathsep) if not shutil.which("go", path=p)]
    monkeypatch.setenv("PATH", os.pathsep.join(path))  # hooks run with sys.executable, not PATH's python
    result = bake({})
    out = capfd.readouterr().out
    assert isinstance(result.exception, FailedHookException), result.exception
    assert "needs Go and make on PATH, or Docker: install Go from https://go.dev/dl/" in out
    assert "0 ok, 0 failed, 8 skipped" in out
    assert [p for p in (tmp_path / "cookies").rglob("*") if p.is_file()] == []
