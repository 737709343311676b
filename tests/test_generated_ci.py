"""The generated service's CI (GitHub Actions or GitLab CI) and Renovate config.

- .github/workflows/ci.yml verifies with one command, `make verify VERIFY=strict`:
  the service's own verification (scripts/verify.sh), the same as a laptop's and the
  creation hook's, so they cannot drift apart. It runs here for real, with Docker.
  Its release job (v* tags) pushes to the image_repository answer, the Makefile's IMAGE.
- .gitlab-ci.yml (ci_provider=gitlab) runs the same commands; `none` writes no CI.
- Every combination's CI files pass zizmor (GitHub) and check-jsonschema's bundled
  GitHub-workflow, GitLab-CI and Renovate schemas.
- renovate.json: scripts off, Renovate's copier manager off (it cannot pass --trust;
  the template-update workflow updates), base images pinned by digest. With the
  `renovate` npm package at hand (RENOVATE_BIN, or `renovate` on
  PATH; `npm install renovate@39` runs on Node 20), the config goes through
  `renovate-config-validator --strict`, and Renovate's own extraction proves it sees
  no template (the manager is off) and the base images behind the Dockerfile's `ARG ..._IMAGE=` defaults.
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

import combos
import pytest
import service_template as st
import yaml
from conftest import RENOVATE_ENV, copier_generate, need, renovate_tool, run

WORKFLOW = Path(".github/workflows/ci.yml")
GITLAB_CI = Path(".gitlab-ci.yml")
UPDATE_WORKFLOW = Path(".github/workflows/template-update.yml")
ZIZMOR_CONFIG = Path(".github/zizmor.yml")
# A target line: `name: prerequisites ## help`, never a variable (`:=`) or a special target.
MAKE_TARGET_RE = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9_.-]*):(?!=)(?P<prereqs>[^#\n]*)", re.MULTILINE)


@pytest.fixture(scope="module", params=["http", "cli"])
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copier_generate(tmp_path_factory.mktemp(f"ci-{request.param}") / "svc", {"app_kind": request.param})


def make_targets(makefile: Path) -> dict[str, list[str]]:
    """The Makefile's targets and their prerequisites."""
    return {m["name"]: m["prereqs"].split() for m in MAKE_TARGET_RE.finditer(makefile.read_text())}


def workflow(project: Path) -> dict[str, Any]:
    loaded = yaml.safe_load((project / WORKFLOW).read_text())
    # YAML 1.1 reads the bare key `on` as True.
    loaded["on"] = loaded.pop(True, loaded.get("on"))
    return loaded


def workflow_steps(project: Path, job: str = "test") -> list[dict[str, Any]]:
    loaded = workflow(project)
    assert {"push", "pull_request"} <= set(loaded["on"]), loaded["on"]
    return loaded["jobs"][job]["steps"]


def makefile_image(project: Path) -> str:
    """The Makefile's IMAGE: the one place the image_repository answer lives in make."""
    return run(["make", "-s", "--eval=print-image: ; @echo $(IMAGE)", "print-image"], cwd=project).stdout.strip()


def run_commands(steps: list[dict[str, Any]]) -> list[list[str]]:
    return [shlex.split(line) for step in steps if "run" in step for line in step["run"].splitlines() if line.strip()]


# -- the CI workflow --------------------------------------------------------------


def test_ci_runs_the_services_own_verification(project: Path) -> None:
    """One proof: CI calls the target a laptop calls and the creation hook runs (scripts/verify.sh)."""
    targets = make_targets(project / "Makefile")
    commands = run_commands(workflow_steps(project))
    assert commands == [["make", "verify", "VERIFY=strict"], ["make", "vulncheck"]], commands
    assert "vulncheck" in targets
    assert "verify" in targets
    recipe = (project / "Makefile").read_text().split("\nverify:", 1)[1].split("\n\n", 1)[0]
    assert "bash scripts/verify.sh" in recipe, recipe
    readme = (project / "README.md").read_text()
    assert "make verify" in readme and "the same proof the template ran when it created" in readme


def test_ci_pins_action_versions_and_keeps_github_expressions(project: Path) -> None:
    steps = [step for job in workflow(project)["jobs"].values() for step in job["steps"]]
    uses = [step["uses"] for step in steps if "uses" in step]
    # Verification needs no Go on the runner (gofmt, vet and tests run in Docker);
    # govulncheck does. No QEMU: the Dockerfile cross-compiles.
    assert sorted({action.split("@")[0] for action in uses}) == [
        "actions/checkout", "actions/setup-go", "docker/build-push-action", "docker/login-action",
        "docker/metadata-action", "docker/setup-buildx-action", "sigstore/cosign-installer",
    ]
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
    # The Verify step (govulncheck needs the Go module proxy and vulnerability database).
    verify_steps = [step for step in workflow_steps(service) if step.get("name") == "Verify"]
    for argv in run_commands(verify_steps):
        out = run(argv, cwd=service, timeout=1800, env=env).stdout
        assert "0 failed, 0 skipped: verified" in out, out


def test_make_check_fails_on_unformatted_code_and_without_gofmt(project: Path, tmp_path: Path) -> None:
    """The Go checks (scripts/go-checks.sh, also the Dockerfile's checks stage) must be able to fail."""
    need("go", "gofmt comes with it")
    copy = tmp_path / "svc"
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns("bin"))
    run(["make", "check"], cwd=copy)
    no_gofmt = subprocess.run(["make", "check", "GOFMT=/nonexistent/gofmt"], cwd=copy, capture_output=True, text=True)
    assert no_gofmt.returncode != 0, "check passed without a gofmt to run"
    (copy / "sloppy.go").write_text("package main\nfunc  sloppy( ) {}\n")
    sloppy = subprocess.run(["make", "check"], cwd=copy, capture_output=True, text=True)
    assert sloppy.returncode != 0 and "sloppy.go" in sloppy.stderr
    # go vet's findings are the lint's (govet): test_template.py's lint controls.


# -- the release job (GitHub) and GitLab CI ----------------------------------------


def test_release_job_pushes_signs_and_asks_only_for_what_it_needs(project: Path) -> None:
    loaded = workflow(project)
    assert loaded["on"]["push"]["tags"] == ["v*"], "a v* tag releases"
    assert loaded["permissions"] == {}, "nothing by default: each job asks"
    assert loaded["jobs"]["test"]["permissions"] == {"contents": "read"}
    release = loaded["jobs"]["release"]
    assert release["if"] == "startsWith(github.ref, 'refs/tags/v')" and release["needs"] == "test"
    assert release["permissions"] == {"contents": "read", "packages": "write", "id-token": "write"}
    steps = {step["uses"].split("@")[0]: step for step in release["steps"] if "uses" in step}
    image = makefile_image(project)
    assert image == "ghcr.io/example/hello-service", "the derived default for github.com/example/..."
    assert steps["docker/login-action"]["with"] == {
        "registry": "ghcr.io", "username": "${{ github.actor }}", "password": "${{ secrets.GITHUB_TOKEN }}"}
    assert steps["docker/metadata-action"]["with"]["images"] == image, "CI pushes where make docker-push does"
    build = steps["docker/build-push-action"]
    assert build["with"]["provenance"] == "mode=max" and build["with"]["sbom"] is True
    assert build["with"]["push"] is True
    assert build["with"]["platforms"] == "linux/amd64,linux/arm64"
    assert build["with"]["tags"] == "${{ steps.meta.outputs.tags }}"
    sign = next(step for step in release["steps"] if step.get("name") == "Sign")
    assert sign["env"] == {"DIGEST": "${{ steps.build.outputs.digest }}"} and build["id"] == "build"
    assert sign["run"] == f'cosign sign --yes "{image}@${{DIGEST}}"', "the pushed digest, signed keyless"


def test_release_to_another_registry_logs_in_with_repository_secrets(tmp_path: Path) -> None:
    project = copier_generate(tmp_path / "svc", {"image_repository": "registry.example.com/team/svc"})
    release = workflow(project)["jobs"]["release"]
    login = next(step for step in release["steps"] if step.get("uses", "").startswith("docker/login-action@"))
    assert login["with"]["registry"] == "registry.example.com"
    assert login["with"]["password"] == "${{ secrets.REGISTRY_PASSWORD }}"
    assert "packages" not in release["permissions"], "GITHUB_TOKEN needs no package rights for another registry"


@pytest.mark.parametrize("app_kind", ["http", "cli"])
def test_gitlab_ci_runs_the_same_commands_and_releases_tags(app_kind: str, tmp_path: Path) -> None:
    project = copier_generate(tmp_path / "svc", {"app_kind": app_kind, "ci_provider": "gitlab",
                                                 "module_path": "gitlab.com/Acme/billing-api"})  # fmt: skip
    assert not (project / ".github").exists(), "no GitHub files for a GitLab service"
    pipeline = yaml.safe_load((project / GITLAB_CI).read_text())
    image = makefile_image(project)
    assert image == "registry.gitlab.com/acme/billing-api", "the default is GitLab's CI_REGISTRY_IMAGE"
    assert pipeline["verify"]["script"] == ["make verify VERIFY=strict"]
    assert pipeline["vulncheck"]["script"] == ["make vulncheck"]
    assert pipeline["vulncheck"]["image"] == st.go_image({"go_version": "1.27"})
    release = pipeline["release"]
    assert release["rules"] == [{"if": "$CI_COMMIT_TAG =~ /^v/"}]
    assert release["id_tokens"] == {"SIGSTORE_ID_TOKEN": {"aud": "sigstore"}}
    assert release["variables"]["IMAGE"] == image
    script = release["script"]
    assert 'make docker-buildx VERSION="$CI_COMMIT_TAG" COMMIT="$CI_COMMIT_SHORT_SHA"' in script
    assert any('docker login -u "$CI_REGISTRY_USER" --password-stdin "$CI_REGISTRY"' in line for line in script)
    assert script[-1] == 'cosign sign "$IMAGE@$DIGEST"'
    assert "{{.Manifest.Digest}}" in script[-2], "the Go template survived Jinja"


def test_the_template_update_workflow_runs_weekly_and_by_hand_with_least_privilege(project: Path) -> None:
    flow = yaml.safe_load((project / UPDATE_WORKFLOW).read_text())
    triggers = flow[True]  # YAML 1.1 reads the key `on` as True
    assert set(triggers) == {"schedule", "workflow_dispatch"} and len(triggers["schedule"]) == 1
    assert flow["permissions"] == {}
    (job,) = flow["jobs"].values()
    assert job["permissions"] == {"contents": "write", "pull-requests": "write"}
    # Run by hand on another branch, the job would trust that branch's template source.
    assert job["if"] == "${{ github.ref_name == github.event.repository.default_branch }}"
    checkout, install, update = job["steps"]
    assert checkout["uses"].startswith("actions/checkout@") and checkout["with"] == {"persist-credentials": False}
    assert install["run"] == st.copier_install_command()
    assert update["run"] == "python3 scripts/template_updates.py request"
    assert update["env"]["VERIFY"] == "strict"
    assert "secrets.TEMPLATE_UPDATE_TOKEN" in update["env"]["TEMPLATE_UPDATE_TOKEN"]


def test_gitlab_runs_the_template_update_only_from_its_schedule(tmp_path: Path) -> None:
    project = copier_generate(tmp_path / "svc", {"ci_provider": "gitlab"})
    ci = yaml.safe_load((project / GITLAB_CI).read_text())
    job = ci["template-update"]
    assert [rule["if"] for rule in job["rules"]] == [
        '$TEMPLATE_UPDATE == "true" && ($CI_PIPELINE_SOURCE == "schedule" || $CI_PIPELINE_SOURCE == "web")']
    assert job["script"][1] == st.copier_install_command()
    assert job["script"][-1] == "python3 scripts/template_updates.py request"
    assert job["variables"]["VERIFY"] == "strict"
    # Every other job keeps its own rules: none of them runs the update.
    assert not [name for name, other in ci.items() if isinstance(other, dict) and name != "template-update"
                and "template_updates.py" in str(other.get("script", ""))]


def test_no_ci_provider_writes_no_ci_files_and_no_empty_folders(tmp_path: Path) -> None:
    project = copier_generate(tmp_path / "svc", {"ci_provider": "none"})
    assert not (project / ".github").exists() and not (project / GITLAB_CI).exists()
    assert [p for p in project.rglob("*") if p.is_dir() and not any(p.iterdir())] == []
    run(["make", "-n", "docker-push"], cwd=project)  # the release by hand still works


def zizmor(project: Path) -> subprocess.CompletedProcess[str]:
    tool = need("zizmor", "lints the generated workflows: pip install zizmor")
    # Offline: the online audits ask GitHub's API about each action's refs.
    return subprocess.run([tool, "--offline", "--no-progress", "--persona=auditor", "."], cwd=project,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def schema_check(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    tool = need("check-jsonschema", "validates CI and Renovate files: pip install check-jsonschema")
    return subprocess.run([tool, "--builtin-schema", schema, *map(str, files)], capture_output=True, text=True,
                          timeout=300)  # fmt: skip


@pytest.mark.parametrize("answers", combos.params())
def test_every_combination_renders_ci_that_passes_zizmor_and_the_schemas(answers: dict[str, Any], tmp_path: Path) -> None:
    project = copier_generate(tmp_path / "svc", answers)
    provider = answers["ci_provider"]
    assert (project / WORKFLOW).exists() == (provider == "github")
    assert (project / ZIZMOR_CONFIG).exists() == (provider == "github")
    assert (project / GITLAB_CI).exists() == (provider == "gitlab")
    checks = [schema_check("vendor.renovate", project / "renovate.json")]
    if provider == "github":
        workflows = schema_check("vendor.github-workflows", project / WORKFLOW, project / UPDATE_WORKFLOW)
        checks += [workflows, zizmor(project)]
    if provider == "gitlab":
        checks.append(schema_check("vendor.gitlab-ci", project / GITLAB_CI))
    for check in checks:
        assert check.returncode == 0, f"{check.args}:\n{check.stdout}\n{check.stderr}"


def test_the_linters_can_fail(tmp_path: Path) -> None:
    """Controls: without its config zizmor refuses the major-version pins (hash pins are
    Renovate's job); a run: step that expands a step output, and a misspelt key, fail too."""
    project = copier_generate(tmp_path / "svc", {})
    (project / ZIZMOR_CONFIG).unlink()
    unconfigured = zizmor(project)
    assert unconfigured.returncode != 0 and "unpinned-uses" in unconfigured.stdout
    copier_generate(project, {}, overwrite=True)
    assert zizmor(project).returncode == 0
    text = (project / WORKFLOW).read_text()
    injected = text.replace('cosign sign --yes "', 'cosign sign --yes "${{ steps.meta.outputs.tags }} ')
    (project / WORKFLOW).write_text(injected)
    assert "template-injection" in zizmor(project).stdout
    (project / WORKFLOW).write_text(text.replace("runs-on:", "run-on:", 1))
    assert schema_check("vendor.github-workflows", project / WORKFLOW).returncode != 0
    gitlab = copier_generate(tmp_path / "gl", {"ci_provider": "gitlab"})
    (gitlab / GITLAB_CI).write_text((gitlab / GITLAB_CI).read_text().replace("id_tokens:", "id_token:"))
    assert schema_check("vendor.gitlab-ci", gitlab / GITLAB_CI).returncode != 0


# -- the Renovate config ---------------------------------------------------------


def renovate_config(project: Path) -> dict[str, Any]:
    return json.loads((project / "renovate.json").read_text())


def test_renovate_config_turns_copier_off_keeps_scripts_off_and_pins_base_images(project: Path) -> None:
    """The copier manager is off: Renovate runs copier without --trust, which this template
    needs (tests/test_renovate_copier.py); the template-update workflow does the updates."""
    config = renovate_config(project)
    assert config["ignoreScripts"] is True
    assert config["copier"]["enabled"] is False
    rules = config.get("packageRules", [])
    assert not [rule for rule in rules if "copier" in rule.get("matchManagers", [])], "a rule for a manager that is off"
    docker_rules = [rule for rule in rules if "docker" in rule.get("matchDatasources", [])]
    assert any(rule.get("pinDigests") is True for rule in docker_rules), "base images must be pinned by digest"
    assert not [rule for rule in [config, *rules] if rule.get("pinDigests") is False]
    assert "config:recommended" in config["extends"]


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


def test_renovate_sees_the_base_images_behind_the_args_and_not_the_template(tmp_path: Path) -> None:
    project = copier_generate(tmp_path / "svc", {"runtime_base": "distroless"})
    found = renovate_extract(project, tmp_path)

    assert "copier" not in found, "the copier manager is off (template-update job)"

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
