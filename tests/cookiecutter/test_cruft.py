"""cruft: create a service from one template commit, let the team edit it, move the
template on, and `cruft update`: the template's changes arrive, the team's stay."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, need, run

ANSWERS = {"project_name": "Billing API", "upx": "true", "upx_level": "lzma"}
SLUG = "billing-api"
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
}

# The template's second commit: a hardening line in the Dockerfile, a Makefile improvement.
DOCKERFILE_BEFORE = 'ENTRYPOINT ["{{ bin }}"]'
DOCKERFILE_AFTER = '# Hardening: run it with --read-only --cap-drop=ALL; it needs neither.\nSTOPSIGNAL SIGTERM\n' + DOCKERFILE_BEFORE
MAKEFILE_BEFORE = "\tgo test ./...\n"
MAKEFILE_AFTER = "\tgo test -count=1 ./...\n"
# copier never overwrites these after creation (`_skip_if_exists`); cruft's `skip` does the same.
TEAM_OWNED = yaml.safe_load((ROOT / "copier.yml").read_text())["_skip_if_exists"]
MAIN_GO_BEFORE = "package main\n"
MAIN_GO_AFTER = "package main\n\n// A template v2 remark the team's main.go must not receive.\n"
# The team's edits: a handler of their own, and a Makefile target of their own.
TEAM_HANDLER = '\tmux.HandleFunc("GET /version", func(w http.ResponseWriter, r *http.Request) {\n\t\tw.Write([]byte(platform.Version()))\n\t})\n'
ROUTES_ANCHOR = '\tmux.HandleFunc("GET /{$}", hello)\n'
TEAM_FILE = "internal/store/store.go"
TEAM_FILE_SOURCE = "// Package store is the team's own.\npackage store\n"
# The template's second commit also fixes its platform package, which the service's
# running code is (tests/test_platform_update.py: the old layout's control).
PLATFORM_SERVER = "internal/platform/{% if cookiecutter.app_kind == 'http' %}server.go{% endif %}"
PLATFORM_FIX_ANCHOR = "\t\tlimitBody(w, r, MaxBodyBytes)\n"
PLATFORM_FIX = '\t\th["X-Content-Type-Options"] = []string{"nosniff"} // v2\n'
TEAM_TARGET = "\nteam-lint: ## The team's own check\n\tgo vet ./...\n"


def git(cwd: Path, *args: str) -> str:
    return run(["git", *args], cwd=cwd, env=GIT_IDENTITY).stdout


def working_tree_files(root: Path) -> list[str]:
    """What a clone of the template would hold now: tracked and new files, minus ignored ones."""
    listed = run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=root).stdout
    return [name for name in listed.split("\0") if name and (root / name).is_file()]


@pytest.fixture
def template_repo(tmp_path: Path) -> Path:
    """A throwaway git repo holding the template's working tree as commit 1."""
    repo = tmp_path / "template"
    for name in working_tree_files(ROOT):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, repo / name)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "template v1")
    return repo


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} should occur once in {path}"
    path.write_text(text.replace(old, new))


@pytest.fixture
def cruft_env(tmp_path: Path) -> dict[str, str]:
    """VERIFY=off (cruft runs the hooks again for every update) and a private cookiecutter config."""
    config = tmp_path / "cookiecutterrc.yaml"
    config.write_text(
        f"cookiecutters_dir: {tmp_path / 'cookiecutters'}\nreplay_dir: {tmp_path / 'replay'}\ndefault_context: {{}}\n"
    )
    return {**GIT_IDENTITY, "VERIFY": "off", "COOKIECUTTER_CONFIG": str(config)}


def cruft(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The cruft CLI, in a fresh process: run in-process, it would import this checkout's
    hooks package (on sys.path here) instead of the template clone's."""
    cruft_bin = need("cruft", "cruft create/update of a cookiecutter-made service")
    return run([cruft_bin, *args], cwd=cwd, env=env)


def test_cruft_create_then_update_keeps_the_teams_edits(template_repo: Path, tmp_path: Path, cruft_env: dict[str, str]) -> None:
    out = tmp_path / "services"
    out.mkdir()
    skip = [arg for name in TEAM_OWNED for arg in ("--skip", name)]
    created = cruft(out, cruft_env, "create", "--no-input", "--output-dir", str(out),
                    "--extra-context", json.dumps(ANSWERS), *skip, str(template_repo))
    assert created.stdout.count("verify: skipped (VERIFY=off)") == 1
    service = out / SLUG
    state = json.loads((service / ".cruft.json").read_text())
    assert state["commit"] == git(template_repo, "rev-parse", "HEAD").strip()
    assert state["context"]["cookiecutter"]["upx"] is True, "cookiecutter turned the text 'true' into a bool"
    assert "--best --lzma" in (service / "Dockerfile").read_text()
    assert state["skip"] == TEAM_OWNED

    # The team makes it theirs.
    git(service, "init", "-q", "-b", "main")
    git(service, "add", "-A")
    git(service, "commit", "-q", "-m", "generated by cruft")
    edit(service / "main.go", ROUTES_ANCHOR, ROUTES_ANCHOR + TEAM_HANDLER)
    (service / TEAM_FILE).parent.mkdir(parents=True)
    (service / TEAM_FILE).write_text(TEAM_FILE_SOURCE)
    git(service, "add", "-A")
    with (service / "Makefile").open("a") as makefile:
        makefile.write(TEAM_TARGET)
    git(service, "commit", "-q", "-a", "-m", "our handler and target")

    # The template moves on.
    slug_dir = template_repo / "{{cookiecutter.project_slug}}"
    edit(slug_dir / "Dockerfile", DOCKERFILE_BEFORE, DOCKERFILE_AFTER)
    edit(slug_dir / "Makefile", MAKEFILE_BEFORE, MAKEFILE_AFTER)
    edit(slug_dir / PLATFORM_SERVER, PLATFORM_FIX_ANCHOR, PLATFORM_FIX + PLATFORM_FIX_ANCHOR)
    text = (slug_dir / "main.go").read_text()
    (slug_dir / "main.go").write_text(text.replace(MAIN_GO_BEFORE, MAIN_GO_AFTER))
    assert MAIN_GO_AFTER in (slug_dir / "main.go").read_text()
    git(template_repo, "commit", "-q", "-a", "-m", "template v2: STOPSIGNAL, uncached tests")
    stale = subprocess.run(["cruft", "check"], cwd=service, capture_output=True, text=True, env={**os.environ, **cruft_env})
    assert stale.returncode == 1, "cruft check should notice the new template commit"

    updated = cruft(service, cruft_env, "update", "--skip-apply-ask", "--allow-untracked-files")
    # cruft renders the old and the new template (hooks included): VERIFY=off keeps both silent.
    assert updated.stdout.count("verify: skipped (VERIFY=off)") == 2
    assert "verify: [" not in updated.stdout

    dockerfile = (service / "Dockerfile").read_text()
    assert "STOPSIGNAL SIGTERM\n" in dockerfile and "--best --lzma" in dockerfile
    makefile = (service / "Makefile").read_text()
    assert MAKEFILE_AFTER in makefile and MAKEFILE_BEFORE not in makefile
    assert makefile.endswith(TEAM_TARGET), "the team's own target is kept"
    main_go = (service / "main.go").read_text()
    assert TEAM_HANDLER in main_go, "the team's handler is kept"
    assert MAIN_GO_AFTER not in main_go, "main.go is the team's (skip), as with copier's _skip_if_exists"
    assert PLATFORM_FIX in (service / "internal/platform/server.go").read_text(), "the platform fix did not arrive"
    assert (service / TEAM_FILE).read_text() == TEAM_FILE_SOURCE
    assert list(service.glob("*.rej")) == [] and list(service.glob("*.orig")) == []
    state = json.loads((service / ".cruft.json").read_text())
    assert state["commit"] == git(template_repo, "rev-parse", "HEAD").strip()
    cruft(service, cruft_env, "check")

    # The merged Dockerfile is what the new template makes from scratch.
    fresh_out = tmp_path / "fresh"
    fresh_out.mkdir()
    cruft(fresh_out, cruft_env, "create", "--no-input", "--output-dir", str(fresh_out),
          "--extra-context", json.dumps(ANSWERS), str(template_repo))
    assert (fresh_out / SLUG / "Dockerfile").read_text() == dockerfile

    # And the service still builds and passes its tests with its own commands.
    need("go", "the updated service's own `make test` and `make team-lint`")
    need("make", "the updated service's Makefile")
    run(["make", "test", "team-lint"], cwd=service)
    run(["make", "build"], cwd=service)


def test_cruft_leaves_conflicts_silently_and_git_diff_check_finds_them(
    template_repo: Path, tmp_path: Path, cruft_env: dict[str, str]
) -> None:
    """docs/cookiecutter.md: cruft reports a conflicted update as clean, and `cruft check`
    then says up to date; `git diff --check` (or a look for *.rej) is what finds it."""
    out = tmp_path / "services"
    out.mkdir()
    skip = [arg for name in TEAM_OWNED for arg in ("--skip", name)]
    cruft(out, cruft_env, "create", "--no-input", "--output-dir", str(out), "--extra-context", json.dumps(ANSWERS),
          *skip, str(template_repo))
    service = out / SLUG
    git(service, "init", "-q", "-b", "main")
    git(service, "add", "-A")
    git(service, "commit", "-q", "-m", "generated by cruft")
    # The team and the template's next commit change the same Makefile line.
    edit(service / "Makefile", MAKEFILE_BEFORE, "\tgo test -race ./...\n")
    git(service, "commit", "-q", "-a", "-m", "team: race detector")
    edit(template_repo / "{{cookiecutter.project_slug}}" / "Makefile", MAKEFILE_BEFORE, MAKEFILE_AFTER)
    git(template_repo, "commit", "-q", "-a", "-m", "template v2: uncached tests")

    updated = cruft(service, cruft_env, "update", "--skip-apply-ask", "--allow-untracked-files")
    assert "clean as possible" in updated.stdout, "cruft no longer claims success: update docs/cookiecutter.md"
    cruft(service, cruft_env, "check")  # exits 0: "up to date", conflict or not
    # The control: the conflict is there, inline (cruft's git apply --3way), yet all said "clean".
    assert "<<<<<<<" in (service / "Makefile").read_text()
    check = subprocess.run(["git", "diff", "--check"], cwd=service, capture_output=True, text=True)
    assert check.returncode != 0 and "Makefile" in check.stdout and "conflict marker" in check.stdout, check.stdout
