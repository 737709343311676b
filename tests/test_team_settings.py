"""The team's own settings reach a service's commands: its GOFLAGS join the template's
(instead of being thrown away), and VERIFY=off means the same in make verify as at creation."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

import service_template as st
from conftest import bin_without, copier_generate, need

TEMPLATE_FLAGS = st.go_flags({"tzdata": "embedded"}).split()
# What the Makefile's GOFLAGS line was before: the template's flags replaced the team's.
REPLACING_LINE = f"export GOFLAGS := {' '.join(TEMPLATE_FLAGS)}\n"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copier_generate(tmp_path_factory.mktemp("team-settings") / "service", {})


def goflags_under_make(project: Path, tmp_path: Path, **env: str) -> list[str]:
    """GOFLAGS as every go command run by the service's make sees it."""
    need("make", "the generated Makefile")
    go_env_file = tmp_path / "go.env"
    go_env_file.write_text(env.pop("go_env_file", ""))
    clean = {k: v for k, v in os.environ.items() if k not in {"GOFLAGS", "GOENV"}}
    proc = subprocess.run(["make", "-s", "--eval", "show-goflags: ; @go env GOFLAGS", "show-goflags"], cwd=project,
                          env={**clean, "GOENV": str(go_env_file), **env}, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


@pytest.mark.parametrize("where", ["environment", "go-env-file"])
def test_the_teams_goflags_are_added_to_the_templates(service: Path, tmp_path: Path, where: str) -> None:
    team = {"GOFLAGS": "-mod=mod"} if where == "environment" else {"go_env_file": "GOFLAGS=-mod=mod\n"}
    flags = goflags_under_make(service, tmp_path, **team)
    assert flags[: len(TEMPLATE_FLAGS)] == TEMPLATE_FLAGS, "the template's flags, as the Dockerfile sets them"
    assert flags[-1] == "-mod=mod", "the team's last, so they win where both set a flag"
    assert goflags_under_make(service, tmp_path) == TEMPLATE_FLAGS, "nothing else is added"


def test_control_the_replacing_line_throws_the_teams_goflags_away(service: Path, tmp_path: Path) -> None:
    control = tmp_path / "control"
    control.mkdir()
    makefile = (service / "Makefile").read_text()
    start = makefile.index("TEMPLATE_GOFLAGS :=")
    end = makefile.index("\n", makefile.index("export GOFLAGS :=")) + 1
    (control / "Makefile").write_text(makefile[:start] + REPLACING_LINE + makefile[end:])
    assert "-mod=mod" not in goflags_under_make(control, tmp_path, GOFLAGS="-mod=mod")


# The team-flags line before: Go's own view only, empty where the CI job's image has no Go.
GO_ONLY_LINE = "TEAM_GOFLAGS := $(filter-out $(TEMPLATE_GOFLAGS),$(shell go env GOFLAGS 2>/dev/null))\n"


@pytest.mark.parametrize("makefile", ["template", "control-go-env-only"])
def test_without_go_the_environments_goflags_still_reach_the_image_build(
    service: Path, tmp_path: Path, makefile: str
) -> None:
    """GitLab's jobs run make in docker:cli, which has no Go: the GOFLAGS variable still
    reaches the image build (USER_GOFLAGS, which verify.sh passes as a build arg)."""
    project = service
    if makefile != "template":
        project = tmp_path / "control"
        project.mkdir()
        text = (service / "Makefile").read_text()
        start = text.index("TEAM_GOFLAGS :=")
        (project / "Makefile").write_text(text[:start] + GO_ONLY_LINE + text[text.index("\n", start) + 1 :])
    no_go = bin_without(tmp_path, {"go", "gofmt"})
    proc = subprocess.run(["make", "-s", "--eval", "show: ; @echo \"[$(USER_GOFLAGS)]\"", "show"], cwd=project,
                          env={**os.environ, "PATH": str(no_go), "GOFLAGS": "-mod=mod"},
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ("[-mod=mod]" if makefile == "template" else "[]")


@pytest.mark.parametrize("mode, status, line", [
    ("off", 0, "verify: skipped (VERIFY=off)"),
    ("of", 2, "verify: VERIFY must be on, strict or off (got 'of')"),  # the control: a typo is refused
])
def test_make_verify_with_verify_off_skips_with_one_line(service: Path, mode: str, status: int, line: str) -> None:
    proc = subprocess.run(["make", "-s", "verify"], cwd=service, env={**os.environ, "VERIFY": mode},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == status, proc.stdout + proc.stderr
    assert (proc.stdout + proc.stderr).strip().splitlines()[0].startswith(line)
    assert "broken" not in proc.stdout + proc.stderr
