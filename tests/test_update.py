"""`copier update` months later: template improvements reach a service its team has changed.

Each test builds a throwaway git repo of this template (the working tree, so
uncommitted template changes are tested too), tags releases in it, generates a
service, commits the team's edits, releases an improved template and updates.
The issue's promises, one by one:
- template-owned files (Dockerfile, Makefile, .dockerignore) get the improvement,
  merged with the team's own edits;
- team-owned files (main.go, main_test.go, README.md) are never touched;
- a real conflict is left inline, as markers git reports, with both sides kept;
- the verification task runs once, on copy, never during the update;
- changing an answer through an update equals a fresh copy with that answer;
- a renamed question keeps the team's answer (the base_image -> runtime_base migration).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import migrations
import pytest
import yaml
from conftest import (
    GIT_IDENTITY,
    HARDENING_LINE,
    NEW_DOCKERIGNORE_LINE,
    NOT_IN_A_RELEASE,
    PLATFORM_FIX,
    ROOT,
    TEAM_MIRROR,
    TEAM_TARGET,
    bin_without,
    commit_all,
    copy,
    edit,
    generate_service,
    git,
    improve_template,
    need,
    replace_once,
    run,
    template_release,
    template_repo,
    update,
)

copier = pytest.importorskip("copier")
from plumbum import local  # noqa: E402  (copier's dependency)

TEAM_OWNED = ("main.go", "main_test.go", "README.md")
WORKFLOW_PATH = Path(".github/workflows/ci.yml")
TEMPLATE_OWNED = ("Dockerfile", "Makefile", ".dockerignore")
CONFLICT_MARKERS = ("<<<<<<< before updating", "=======", ">>>>>>> after updating")


# -- helpers ----------------------------------------------------------------------


@contextmanager
def no_go_nor_docker(tmp_path: Path) -> Iterator[None]:
    """VERIFY=on with go and docker off PATH: the verification, if it runs, says so and skips fast."""
    bin_dir = bin_without(tmp_path, {"go", "gofmt", "docker"})
    with local.env(VERIFY="on", PATH=str(bin_dir), DOCKER="docker", **GIT_IDENTITY):
        yield


def answers(project: Path) -> dict[str, Any]:
    return yaml.safe_load((project / ".copier-answers.yml").read_text())


def tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }


def added_lines(project: Path, commit: str) -> dict[str, list[str]]:
    """Per file, the lines `commit` added (the team's edits)."""
    lines: dict[str, list[str]] = {}
    current = ""
    for line in git(project, "show", "--format=", "--unified=0", commit).splitlines():
        if line.startswith("+++ b/"):
            current = line[len("+++ b/") :]
        elif line.startswith("+") and not line.startswith("+++"):
            lines.setdefault(current, []).append(line[1:])
    return lines


def conflicted_paths(project: Path) -> list[str]:
    """Paths git itself reports as unmerged (`git status` shows them as both modified)."""
    return sorted(set(git(project, "diff", "--name-only", "--diff-filter=U").split()))


# -- the team's edits ------------------------------------------------------------------

NEW_HANDLER = '''	mux.HandleFunc("GET /version", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(platform.Version() + store.Greeting()))
	})
'''
# The team's own package, which main.go imports: an update never touches it.
TEAM_PACKAGE = "internal/store/store.go"
TEAM_PACKAGE_SOURCE = "// Package store is the team's.\npackage store\n\n// Greeting is the team's.\nfunc Greeting() string { return \"!\" }\n"
TEAM_LABEL = 'LABEL com.example.team="payments"'


def team_edits(project: Path, *, mirror_builder: bool) -> None:
    """What a team does in a few months: a handler, a Makefile target, a Dockerfile tweak
    (and, with `mirror_builder`, the builder image from its own mirror: the same line
    the template's v2 changes)."""
    edit(project / "main.go", replace_once("\treturn mux\n", NEW_HANDLER + "\treturn mux\n"))
    edit(project / "main.go", replace_once("/internal/platform\"\n", f"/internal/platform\"\n\t\"{answers(project)['module_path']}/internal/store\"\n"))
    (project / TEAM_PACKAGE).parent.mkdir(parents=True)
    (project / TEAM_PACKAGE).write_text(TEAM_PACKAGE_SOURCE)
    edit(project / "README.md", lambda text: text + "\n## Runbook\n\nPage the payments team.\n")
    edit(project / "Makefile", lambda text: text + TEAM_TARGET)
    edit(project / "Dockerfile", replace_once("USER ", f"{TEAM_LABEL}\n\nUSER "))
    if mirror_builder:
        edit(project / "Dockerfile", lambda text: text.replace("ARG GO_IMAGE=", f"ARG GO_IMAGE={TEAM_MIRROR}", 1))
    commit_all(project, "Team: /version handler, lint target, team label")


@pytest.fixture(scope="module")
def released_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template repo with v1.0.0 (today's tree) and v2.0.0 (improve_template)."""
    repo = template_repo(tmp_path_factory.mktemp("update") / "template")
    template_release(repo, "v1.0.0", "v1")
    improve_template(repo)
    template_release(repo, "v2.0.0", "v2: Go 1.28 default, alpine3.22 builder, STOPSIGNAL, go test -count=1")
    return repo


# -- the update keeps the team's work -----------------------------------------------


def test_update_brings_the_improvements_and_keeps_every_team_edit(
    released_template: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "payments"
    with no_go_nor_docker(tmp_path):
        generate_service(released_template, project, "v1.0.0")
    assert capfd.readouterr().out.count("verify: checking") == 1, "the verification runs once after copy"

    team_edits(project, mirror_builder=False)
    team_files = {name: (project / name).read_bytes() for name in (*TEAM_OWNED, TEAM_PACKAGE)}
    team_lines = added_lines(project, "HEAD")

    with no_go_nor_docker(tmp_path):
        update(project, "v2.0.0")
    assert "verify:" not in capfd.readouterr().out, "the verification ran during `copier update`"

    # Team-owned files: byte for byte what the team committed.
    for name, content in team_files.items():
        assert (project / name).read_bytes() == content, f"copier update changed the team's {name}"
    # Nothing is lost: every line the team added is still there.
    for name, lines in team_lines.items():
        text = (project / name).read_text().splitlines()
        missing = [line for line in lines if line not in text]
        assert not missing, f"{name} lost the team's lines {missing}"

    # Template-owned files: the improvements arrived, merged with the team's edits.
    dockerfile = (project / "Dockerfile").read_text()
    assert HARDENING_LINE in dockerfile
    assert "ARG GO_IMAGE=golang:1.27-alpine3.22\n" in dockerfile, "the builder image improvement did not arrive"
    assert TEAM_LABEL in dockerfile
    makefile = (project / "Makefile").read_text()
    assert "\tgo test -count=1 ./...\n" in makefile and TEAM_TARGET in makefile
    assert NEW_DOCKERIGNORE_LINE in (project / ".dockerignore").read_text().splitlines()
    assert PLATFORM_FIX in (project / "internal/platform/server.go").read_text(), "the platform fix did not arrive"

    # The recorded answer stays the team's, though the template's default moved on.
    recorded = answers(project)
    assert recorded["_commit"] == "v2.0.0"
    assert recorded["go_version"] == "1.27" and "\ngo 1.27\n" in (project / "go.mod").read_text()

    # A clean merge: no markers, nothing unmerged, and the result is reviewable as one diff.
    assert conflicted_paths(project) == []
    for name in TEMPLATE_OWNED:
        assert not any(marker in (project / name).read_text() for marker in CONFLICT_MARKERS[::2]), name
    git(project, "diff", "--check")
    changed = set(git(project, "diff", "--name-only", "HEAD").split())
    assert {"Dockerfile", "Makefile", ".dockerignore", ".copier-answers.yml", "internal/platform/server.go"} <= changed
    assert not changed & set(TEAM_OWNED)

    # The merged project still passes its own checks, with the team's handler and target.
    need("go", "the merged project's own checks run here")
    run(["make", "check", "test", "build", "lint"], cwd=project, timeout=600)


def test_a_real_conflict_is_left_inline_where_git_reports_it(released_template: Path, tmp_path: Path) -> None:
    project = tmp_path / "payments"
    generate_service(released_template, project, "v1.0.0")
    team_edits(project, mirror_builder=True)  # the team and v2 both change ARG GO_IMAGE

    update(project, "v2.0.0")

    dockerfile = (project / "Dockerfile").read_text()
    block = re.search(
        r"^<<<<<<< before updating\n(?P<ours>.*?)^=======\n(?P<theirs>.*?)^>>>>>>> after updating\n",
        dockerfile,
        re.MULTILINE | re.DOTALL,
    )
    assert block, f"no inline conflict in the Dockerfile:\n{dockerfile}"
    # Both sides are kept, for the team to choose: its mirror and the template's new tag.
    assert f"ARG GO_IMAGE={TEAM_MIRROR}golang:1.27-alpine" in block["ours"]
    assert "ARG GO_IMAGE=golang:1.27-alpine3.22" in block["theirs"]
    # The rest of the file merged: the hardening line arrived, the team's label stayed.
    assert HARDENING_LINE in dockerfile and TEAM_LABEL in dockerfile
    assert dockerfile.count("<<<<<<<") == 1, "only the line both sides changed conflicts"

    # git reports it: unmerged in the index, and `git diff --check` refuses the markers.
    assert conflicted_paths(project) == ["Dockerfile"]
    assert "UU Dockerfile" in git(project, "status", "--porcelain").splitlines()
    check = subprocess.run(["git", "diff", "--check"], cwd=project, capture_output=True, text=True)
    assert check.returncode != 0 and "leftover conflict marker" in check.stdout
    # Everything else merged cleanly.
    assert "\tgo test -count=1 ./...\n" in (project / "Makefile").read_text()
    assert TEAM_TARGET in (project / "Makefile").read_text()


def test_deleted_files_template_owned_stay_deleted_team_owned_come_back(released_template: Path, tmp_path: Path) -> None:
    """docs/updating.md promises these: copier sees a deleted template-owned file as the team's decision,
    `_skip_if_exists` only skips files that exist (the README comes back), and the Go files of
    package main are never written by an update (`_exclude`): a template main_test.go would not
    compile against the team's main.go."""
    project = generate_service(released_template, tmp_path / "svc", "v1.0.0")
    (project / "renovate.json").unlink()
    (project / "README.md").unlink()
    (project / "main_test.go").unlink()
    commit_all(project, "Team: no Renovate, no README, tests elsewhere")

    update(project, "v2.0.0")

    assert not (project / "renovate.json").exists()
    assert (project / "README.md").exists()
    assert not (project / "main_test.go").exists()
    assert HARDENING_LINE in (project / "Dockerfile").read_text()


def test_changing_an_answer_through_update_equals_a_fresh_copy(released_template: Path, tmp_path: Path) -> None:
    project = generate_service(released_template, tmp_path / "svc", "v1.0.0", {"runtime_base": "scratch"})
    assert "ARG RUNTIME_IMAGE" not in (project / "Dockerfile").read_text()

    update(project, "v2.0.0", data={"runtime_base": "distroless"})

    recorded = answers(project)
    fresh = copy(
        released_template,
        tmp_path / "fresh",
        "v2.0.0",
        {key: value for key, value in recorded.items() if not key.startswith("_")},
    )
    assert recorded["runtime_base"] == "distroless"
    assert (project / "Dockerfile").read_text() == (fresh / "Dockerfile").read_text()
    assert "ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot" in (project / "Dockerfile").read_text()
    # Not just the Dockerfile: every template-owned file is the fresh copy's, answers included.
    # The team's files stay as they were, though the README mentions the old base.
    updated, fresh_tree = tree(project), tree(fresh)
    assert {k: v for k, v in updated.items() if k not in TEAM_OWNED} == {
        k: v for k, v in fresh_tree.items() if k not in TEAM_OWNED
    }
    assert git(project, "diff", "--name-only", "HEAD", "--", *TEAM_OWNED) == ""


def test_renovate_runs_copier_without_trust_so_the_runner_must_trust_the_template(
    released_template: Path, tmp_path: Path
) -> None:
    """Renovate's copier manager, scripts off, runs exactly
    `copier update --skip-answered --defaults --answers-file F --vcs-ref TAG` (no --trust).
    This template renders through Jinja extensions and migrates answers, so copier refuses
    unless the template is in `trust` of copier's settings file (docs/updating.md)."""
    project = generate_service(released_template, tmp_path / "svc", "v1.0.0", {"runtime_base": "alpine"})
    renovate_command = [
        sys.executable, "-m", "copier", "update", "--skip-answered", "--defaults",
        "--answers-file", ".copier-answers.yml", "--vcs-ref", "v2.0.0",
    ]  # fmt: skip
    untrusted = tmp_path / "untrusted.yml"
    untrusted.write_text("trust: []\n")
    refused = subprocess.run(
        renovate_command,
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_IDENTITY, "COPIER_SETTINGS_PATH": str(untrusted)},
        timeout=300,
    )
    assert refused.returncode != 0 and "unsafe" in (refused.stdout + refused.stderr).lower()
    assert git(project, "status", "--porcelain") == "", "a refused update left changes behind"

    trusting = tmp_path / "copier-settings.yml"
    trusting.write_text(yaml.safe_dump({"trust": [str(released_template)]}))
    run(renovate_command, cwd=project, env={**GIT_IDENTITY, "COPIER_SETTINGS_PATH": str(trusting)})
    assert answers(project)["_commit"] == "v2.0.0"
    assert answers(project)["runtime_base"] == "alpine"
    assert HARDENING_LINE in (project / "Dockerfile").read_text()
    # One process renders v1 then v2: v2's own hooks/service_template.py must be used.
    assert "ARG GO_IMAGE=golang:1.27-alpine3.22\n" in (project / "Dockerfile").read_text()


# -- the answer migration (base_image -> runtime_base, 0.2.0) ---------------------------

OLD_KEY, NEW_KEY = "base_image", "runtime_base"


def as_release_0_1_0(repo: Path) -> None:
    """Rewrite the template tree as 0.1.0 had it: the question was named `base_image`."""
    for path in repo.rglob("*"):
        if path.is_file() and ".git" not in path.parts and path.suffix in {"", ".py", ".yml", ".json", ".md", ".mod", ".go"}:
            text = path.read_text()
            if NEW_KEY in text:
                path.write_text(text.replace(NEW_KEY, OLD_KEY))


def restore_current_tree(repo: Path) -> None:
    for path in repo.iterdir():
        if path.name != ".git":
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    shutil.copytree(ROOT, repo, ignore=NOT_IN_A_RELEASE, dirs_exist_ok=True)


def drop_migrations(repo: Path) -> None:
    config = repo / "copier.yml"
    text = config.read_text()
    config.write_text(re.sub(r"^_migrations:\n(?:[ #].*\n|\n)*?(?=^\S)", "", text, flags=re.MULTILINE))
    assert "_migrations" not in yaml.safe_load(config.read_text())


def migration_template(tmp_path: Path, *, with_migration: bool = True) -> Path:
    repo = template_repo(tmp_path / "template")
    as_release_0_1_0(repo)
    template_release(repo, "v0.1.0", "0.1.0: the question is base_image")
    restore_current_tree(repo)
    if not with_migration:
        drop_migrations(repo)
    template_release(repo, "v0.2.0", "0.2.0: base_image renamed runtime_base")
    return repo


@pytest.mark.parametrize("skip_answered", [False, True], ids=["copier-update", "renovate-skip-answered"])
def test_a_renamed_question_keeps_the_teams_answer(tmp_path: Path, skip_answered: bool) -> None:
    template = migration_template(tmp_path)
    project = generate_service(template, tmp_path / "svc", "v0.1.0", {OLD_KEY: "distroless"})
    assert answers(project)[OLD_KEY] == "distroless"
    assert "ARG RUNTIME_IMAGE=gcr.io/distroless" in (project / "Dockerfile").read_text()

    # Renovate's copier manager adds --skip-answered: the migrated answer must count as answered.
    update(project, "v0.2.0", skip_answered=skip_answered)

    recorded = answers(project)
    assert recorded[NEW_KEY] == "distroless" and OLD_KEY not in recorded
    fresh = copy(template, tmp_path / "fresh", "v0.2.0", {NEW_KEY: "distroless"})
    assert (project / "Dockerfile").read_text() == (fresh / "Dockerfile").read_text()
    # A second update (nothing left to rename) changes nothing.
    commit_all(project, "update to 0.2.0")
    update(project, "v0.2.0")
    assert git(project, "status", "--porcelain") == ""


def test_without_the_migration_the_answer_would_be_lost(tmp_path: Path) -> None:
    """The control: the same update with no `_migrations` falls back to the default."""
    template = migration_template(tmp_path, with_migration=False)
    project = generate_service(template, tmp_path / "svc", "v0.1.0", {OLD_KEY: "distroless"})
    update(project, "v0.2.0")
    assert answers(project)[NEW_KEY] == "scratch"
    assert "ARG RUNTIME_IMAGE" not in (project / "Dockerfile").read_text()


# -- hooks/migrations.py ------------------------------------------------------------------

ANSWERS = """\
# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY
_commit: v0.1.0
_src_path: gh:example/minimal-go-service
app_kind: http
base_image: distroless
description: 'base_image: is only text here'
notes: |
  base_image: inside a block scalar
tzdata: embedded
"""


def test_rename_answer_renames_one_top_level_key_and_nothing_else() -> None:
    migrated = migrations.rename_answer(ANSWERS, OLD_KEY, NEW_KEY)
    assert migrated == ANSWERS.replace("\nbase_image: distroless", "\nruntime_base: distroless")
    expected = yaml.safe_load(ANSWERS)
    expected[NEW_KEY] = expected.pop(OLD_KEY)
    assert yaml.safe_load(migrated) == expected
    assert migrations.rename_answer(migrated, OLD_KEY, NEW_KEY) == migrated, "not idempotent"


@pytest.mark.parametrize("quoted", ["'base_image'", '"base_image"'])
def test_rename_answer_handles_quoted_keys(quoted: str) -> None:
    text = ANSWERS.replace("\nbase_image:", f"\n{quoted}:")
    assert yaml.safe_load(migrations.rename_answer(text, OLD_KEY, NEW_KEY))[NEW_KEY] == "distroless"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (ANSWERS + "runtime_base: alpine\n", "both"),
        (ANSWERS + "base_image: alpine\n", "2 times"),
    ],
    ids=["both-names", "duplicate-old-name"],
)
def test_rename_answer_refuses_to_guess(text: str, message: str) -> None:
    with pytest.raises(migrations.MigrationError, match=message):
        migrations.rename_answer(text, OLD_KEY, NEW_KEY)


def test_migration_cli_edits_the_file_or_leaves_it_untouched(tmp_path: Path) -> None:
    answers_file = tmp_path / ".copier-answers.yml"
    cli = [sys.executable, str(ROOT / "hooks" / "migrations.py"), "rename-answer", str(answers_file), OLD_KEY, NEW_KEY]
    answers_file.write_text(ANSWERS + "runtime_base: alpine\n")
    refused = subprocess.run(cli, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "both" in refused.stderr
    assert answers_file.read_text() == ANSWERS + "runtime_base: alpine\n"

    answers_file.write_text(ANSWERS)
    assert "renamed" in run(cli, cwd=tmp_path).stdout
    assert yaml.safe_load(answers_file.read_text())[NEW_KEY] == "distroless"
    assert "nothing to rename" in run(cli, cwd=tmp_path).stdout


# -- a service made before the release questions (ci_provider, image_repository) ------

GITHUB_CI = "{% if cookiecutter.ci_provider == 'github' %}ci.yml{% endif %}"
TEAM_CI_STEP = "      - name: Team lint\n        run: make lint\n"


def without_release_questions(repo: Path) -> None:
    """The template as it was before ci_provider and image_repository: no questions, the
    Makefile's IMAGE the slug, one GitHub workflow always written."""
    config = (repo / "copier.yml").read_text()
    edit(repo / "copier.yml", lambda text: text[: text.index("\nci_provider:")] + "\n")
    assert "image_repository:" in config
    slug_dir = repo / "{{cookiecutter.project_slug}}"
    edit(slug_dir / "Makefile", replace_once("IMAGE ?= {{ c.image_repository }}", "IMAGE ?= {{ c.project_slug }}"))
    workflows = slug_dir / ".github" / "workflows"
    (workflows / GITHUB_CI).rename(workflows / "ci.yml")
    edit(workflows / "ci.yml", replace_once("{% set image = c.image_repository %}", "{% set image = c.project_slug %}"))
    (slug_dir / ".github" / "{% if cookiecutter.ci_provider == 'github' %}zizmor.yml{% endif %}").unlink()
    (slug_dir / "{% if cookiecutter.ci_provider == 'gitlab' %}.gitlab-ci.yml{% endif %}").unlink()


def test_a_service_made_before_the_release_questions_gets_their_defaults_and_keeps_its_ci_edits(
    tmp_path: Path,
) -> None:
    repo = template_repo(tmp_path / "template")
    current = tmp_path / "current"
    shutil.copytree(repo, current, ignore=shutil.ignore_patterns(".git"))
    without_release_questions(repo)
    template_release(repo, "v1.0.0", "v1: before the release questions")
    project = generate_service(repo, tmp_path / "billing", "v1.0.0", {"module_path": "github.com/Acme/Billing-API"})
    assert "ci_provider" not in answers(project) and "image_repository" not in answers(project)
    assert "\nIMAGE ?= hello-service\n" in (project / "Makefile").read_text()
    # The team's own CI step, after the verification.
    edit(project / WORKFLOW_PATH, replace_once("        run: make verify VERIFY=strict\n",
                                               "        run: make verify VERIFY=strict\n" + TEAM_CI_STEP))
    commit_all(project, "Team: lint in CI")

    # v2: today's template, with the questions.
    for path in repo.iterdir():
        if path.name != ".git":
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    shutil.copytree(current, repo, dirs_exist_ok=True)
    template_release(repo, "v2.0.0", "v2: ci_provider and image_repository")
    update(project, "v2.0.0")

    recorded = answers(project)
    assert recorded["ci_provider"] == "github", "the new question's default"
    assert recorded["image_repository"] == "ghcr.io/acme/billing-api", "derived from the recorded module_path"
    assert "\nIMAGE ?= ghcr.io/acme/billing-api\n" in (project / "Makefile").read_text()
    workflow = (project / WORKFLOW_PATH).read_text()
    assert TEAM_CI_STEP in workflow, "the team's CI edit survived the update"
    assert "cosign sign --yes \"ghcr.io/acme/billing-api@${DIGEST}\"" in workflow, "the release job arrived"
    assert (project / ".github" / "zizmor.yml").is_file()
    assert not (project / ".gitlab-ci.yml").exists()
    assert conflicted_paths(project) == []
    assert not any(marker in workflow for marker in CONFLICT_MARKERS[::2])
