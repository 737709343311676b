"""The generated service's CI workflow and Renovate config.

- .github/workflows/ci.yml loads and runs one command, `make verify VERIFY=strict`:
  the service's own verification (scripts/verify.sh), the same as a laptop's and the
  creation hook's, so they cannot drift apart. It runs here for real, with Docker.
- renovate.json: scripts off, Renovate's copier manager on, base images pinned by
  digest. With the `renovate` npm package at hand (RENOVATE_BIN, or `renovate` on
  PATH; `npm install renovate@39` runs on Node 20), the config goes through
  `renovate-config-validator --strict`, and Renovate's own extraction proves it sees
  the template and the base images behind the Dockerfile's `ARG ..._IMAGE=` defaults.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import copier_generate, need, run

import service_template as st

WORKFLOW = Path(".github/workflows/ci.yml")
# A target line: `name: prerequisites ## help`, never a variable (`:=`) or a special target.
MAKE_TARGET_RE = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9_.-]*):(?!=)(?P<prereqs>[^#\n]*)", re.MULTILINE)


@pytest.fixture(scope="module", params=["http", "cli"])
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copier_generate(tmp_path_factory.mktemp(f"ci-{request.param}") / "svc", {"app_kind": request.param})


def make_targets(makefile: Path) -> dict[str, list[str]]:
    """The Makefile's targets and their prerequisites."""
    return {m["name"]: m["prereqs"].split() for m in MAKE_TARGET_RE.finditer(makefile.read_text())}


def workflow_steps(project: Path) -> list[dict[str, Any]]:
    workflow = yaml.safe_load((project / WORKFLOW).read_text())
    # YAML 1.1 reads the bare key `on` as True.
    triggers = workflow.get("on", workflow.get(True))
    assert {"push", "pull_request"} <= set(triggers), triggers
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def run_commands(steps: list[dict[str, Any]]) -> list[list[str]]:
    return [shlex.split(line) for step in steps if "run" in step for line in step["run"].splitlines() if line.strip()]


# -- the CI workflow --------------------------------------------------------------


def test_ci_runs_the_services_own_verification(project: Path) -> None:
    """One proof: CI calls the target a laptop calls and the creation hook runs (scripts/verify.sh)."""
    targets = make_targets(project / "Makefile")
    commands = run_commands(workflow_steps(project))
    assert commands == [["make", "verify", "VERIFY=strict"]], commands
    assert "verify" in targets
    recipe = (project / "Makefile").read_text().split("\nverify:", 1)[1].split("\n\n", 1)[0]
    assert "bash scripts/verify.sh" in recipe, recipe
    readme = (project / "README.md").read_text()
    assert "make verify" in readme and "the same proof the template ran when it created" in readme


def test_ci_pins_action_versions_and_keeps_github_expressions(project: Path) -> None:
    steps = workflow_steps(project)
    uses = [step["uses"] for step in steps if "uses" in step]
    # No Go on the runner is needed: verification runs gofmt, vet and tests in Docker.
    assert [action.split("@")[0] for action in uses] == ["actions/checkout"]
    for action in uses:
        assert re.fullmatch(r"[\w-]+/[\w-]+@v\d+", action), f"{action}: pin a major version (Renovate pins digests)"
    workflow_text = (project / WORKFLOW).read_text()
    assert "${{ github.workflow }}-${{ github.ref }}" in workflow_text, "GitHub's expression did not survive Jinja"
    assert "{#" not in workflow_text and "cookiecutter" not in workflow_text


@pytest.mark.docker
def test_the_ci_command_passes_in_the_generated_project(
    project: Path, tmp_path: Path, docker: str, standin_images: dict[str, str]
) -> None:
    """The workflow's command, run here as the runner would (stand-in base images: no registry)."""
    service = tmp_path / "svc"
    shutil.copytree(project, service, ignore=shutil.ignore_patterns("bin"))
    env = {"DOCKER": docker, "GO_IMAGE": standin_images["go"], "VERIFY_DOCKER_NETWORK": "host"}
    for argv in run_commands(workflow_steps(service)):
        out = run(argv, cwd=service, timeout=1800, env=env).stdout
        assert "0 failed, 0 skipped: verified" in out, out


def test_make_check_fails_on_unformatted_code_a_vet_finding_and_without_gofmt(project: Path, tmp_path: Path) -> None:
    """The Go checks (scripts/go-checks.sh, also the Dockerfile's test stage) must be able to fail."""
    need("go", "gofmt comes with it")
    copy = tmp_path / "svc"
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns("bin"))
    run(["make", "check"], cwd=copy)
    no_gofmt = subprocess.run(["make", "check", "GOFMT=/nonexistent/gofmt"], cwd=copy, capture_output=True, text=True)
    assert no_gofmt.returncode != 0, "check passed without a gofmt to run"
    (copy / "sloppy.go").write_text("package main\nfunc  sloppy( ) {}\n")
    sloppy = subprocess.run(["make", "check"], cwd=copy, capture_output=True, text=True)
    assert sloppy.returncode != 0 and "sloppy.go" in sloppy.stderr
    # A finding of full go vet that go test's own vet subset does not look for.
    (copy / "sloppy.go").write_text("package main\n\nfunc sloppy() int {\n\treturn 1\n\tpanic(\"x\")\n}\n")
    vet = subprocess.run(["make", "check"], cwd=copy, capture_output=True, text=True)
    assert vet.returncode != 0 and "unreachable code" in vet.stdout + vet.stderr


# -- the Renovate config ---------------------------------------------------------


def renovate_config(project: Path) -> dict[str, Any]:
    return json.loads((project / "renovate.json").read_text())


def test_renovate_config_enables_copier_keeps_scripts_off_and_pins_base_images(project: Path) -> None:
    config = renovate_config(project)
    assert config["ignoreScripts"] is True, "scripts stay off: Renovate runs `copier update` without --trust"
    assert config.get("copier", {}).get("enabled", True) is True
    assert "copier" in config.get("enabledManagers", ["copier"])
    rules = config.get("packageRules", [])
    docker_rules = [rule for rule in rules if "docker" in rule.get("matchDatasources", [])]
    assert any(rule.get("pinDigests") is True for rule in docker_rules), "base images must be pinned by digest"
    assert not [rule for rule in [config, *rules] if rule.get("pinDigests") is False]
    copier_rules = [rule for rule in rules if "copier" in rule.get("matchManagers", [])]
    assert copier_rules and all(rule.get("automerge") is not True for rule in copier_rules)
    assert "config:recommended" in config["extends"]


def renovate_tool(name: str) -> str:
    """A Renovate command (npm package `renovate`), from RENOVATE_BIN's folder when set."""
    explicit = os.environ.get("RENOVATE_BIN")
    why = "Renovate's own checks: npm install renovate@39, then RENOVATE_BIN=.../node_modules/.bin/renovate"
    return need(name, why, search_path=str(Path(explicit).parent) if explicit else None)


RENOVATE_ENV = {"RENOVATE_X_IGNORE_RE2": "true", "LOG_LEVEL": "debug", "LOG_FORMAT": "json"}


def test_renovate_config_validator_accepts_the_config(tmp_path: Path) -> None:
    validator = renovate_tool("renovate-config-validator")
    project = copier_generate(tmp_path / "svc", {})  # renovate.json does not depend on the answers
    run([validator, "--strict", "renovate.json"], cwd=project, timeout=300, env=RENOVATE_ENV)
    # The validator can fail: a misspelt option is an error.
    bad = project.parent / "bad-renovate.json"
    bad.write_text(json.dumps({**renovate_config(project), "ignoreScript": True}))
    proc = subprocess.run([validator, "--strict", str(bad)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **RENOVATE_ENV})  # fmt: skip
    assert proc.returncode != 0, "the validator accepted an unknown option"


def renovate_extract(project: Path, tmp_path: Path) -> dict[str, list[dict[str, Any]]]:
    """What Renovate finds in a copy of `project` (local platform, extract only: no network)."""
    repo = tmp_path / "repo"
    shutil.copytree(project, repo, ignore=shutil.ignore_patterns("bin"))
    # Renovate looks template releases up by git URL; a local path is not one.
    answers = repo / ".copier-answers.yml"
    answers.write_text(re.sub(r"^_src_path: .*$", "_src_path: https://github.com/example/minimal-go-service.git",
                              answers.read_text(), flags=re.MULTILINE))  # fmt: skip
    identity = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
                "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}  # fmt: skip
    run(["git", "init", "-q"], cwd=repo)
    run(["git", "add", "-A"], cwd=repo)
    run(["git", "commit", "-qm", "service"], cwd=repo, env=identity)
    log = run(
        [renovate_tool("renovate"), "--platform=local", "--dry-run=extract", "--onboarding=false"],
        cwd=repo,
        timeout=600,
        env=RENOVATE_ENV,
    ).stdout
    for line in log.splitlines():
        if line.startswith("{") and '"Extracted dependencies"' in line:
            return json.loads(line)["packageFiles"]
    raise AssertionError(f"Renovate reported no extracted dependencies:\n{log[-3000:]}")


def test_renovate_sees_the_template_and_the_base_images_behind_the_args(tmp_path: Path) -> None:
    project = copier_generate(tmp_path / "svc", {"runtime_base": "distroless"})
    found = renovate_extract(project, tmp_path)

    copier_deps = [dep for package in found.get("copier", []) for dep in package["deps"]]
    assert [dep["depName"] for dep in copier_deps] == ["https://github.com/example/minimal-go-service.git"]

    images = {dep["depName"]: dep for package in found.get("dockerfile", []) for dep in package["deps"]}
    go_image = st.go_image({"go_version": "1.27"})
    runtime_image = st.BASE_IMAGES["distroless"]
    for image, arg in ((go_image, "GO_IMAGE"), (runtime_image, "RUNTIME_IMAGE")):
        name, tag = image.rsplit(":", 1)
        assert name in images, f"Renovate does not see {image} (found {sorted(images)})"
        assert images[name]["currentValue"] == tag
        # Renovate edits the ARG line itself, where the digest goes.
        assert images[name]["replaceString"].startswith(f"ARG {arg}={image}")
        assert "skipReason" not in images[name]
    assert any(dep["depName"] == "go" for package in found.get("gomod", []) for dep in package["deps"])
