"""What copier says after `copier copy` and `copier update`, and ci_provider's default.

The CLI, as a user runs it: the message names what was verified, the first commit updates
need (`git init`, in the new service's folder), and how template updates arrive for the
chosen CI. The ci_provider default follows the module path's host (gitlab.com: gitlab),
as image_repository's does; an explicit answer wins.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import GIT_IDENTITY, ROOT, commit_all, git, template_repo

import service_template as st

pytest.importorskip("copier")


def copier_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "copier", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, stdin=subprocess.DEVNULL,
                          env={**os.environ, **GIT_IDENTITY, "VERIFY": "off"})  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def copy(tmp_path: Path, *data: str) -> tuple[Path, str]:
    options = [arg for pair in data for arg in ("--data", pair)]
    proc = copier_cli("copy", "--trust", "--defaults", "--vcs-ref", "HEAD", *options, str(ROOT), "svc", cwd=tmp_path)
    return tmp_path / "svc", proc.stderr


def test_default_ci_provider_follows_the_host() -> None:
    assert st.default_ci_provider("gitlab.com/acme/billing") == "gitlab"
    assert st.default_ci_provider("github.com/acme/billing") == "github"
    assert st.default_ci_provider("git.example.com/acme/billing") == "github"


@pytest.mark.parametrize(
    ("data", "provider", "how"),
    [
        ((), "github", "template-update.yml runs weekly"),
        (("module_path=gitlab.com/acme/billing",), "gitlab", "TEMPLATE_UPDATE=true"),
        (("module_path=gitlab.com/acme/billing", "ci_provider=none"), "none", "make template-update"),
    ],
    ids=["github-default", "gitlab-from-the-host", "explicit-none"],
)
def test_after_copy_copier_says_what_was_verified_and_what_next(
    data: tuple[str, ...], provider: str, how: str, tmp_path: Path
) -> None:
    service, said = copy(tmp_path, *data)
    assert yaml.safe_load((service / ".copier-answers.yml").read_text())["ci_provider"] == provider
    message = said[said.index("Hello Service is in svc."):]
    assert "gofmt and go test," in message and "the lint (go vet's analyzers too), the image" in message and "VERIFY=off" in message
    assert "says skipped" in message, "a step that could not run is not called verified"
    assert "    cd svc\n    git init && git add -A && git commit -m" in message
    assert how in message
    # The next step it prints works: the first commit, then the update machinery accepts the tree.
    git(service, "init", "-q", "-b", "main")
    commit_all(service, "Generated from minimal-go-service")
    assert git(service, "status", "--porcelain") == ""


def test_after_update_copier_says_how_to_check_and_commit(tmp_path: Path) -> None:
    template = template_repo(tmp_path / "template")
    commit_all(template, "v1")
    git(template, "tag", "v1.0.0")
    ignore = template / "{{cookiecutter.project_slug}}" / ".dockerignore"
    ignore.write_text(ignore.read_text() + "**/.terraform\n")
    commit_all(template, "v2")
    git(template, "tag", "v2.0.0")
    copier_cli("copy", "--trust", "--defaults", "--vcs-ref", "v1.0.0", str(template), "svc", cwd=tmp_path)
    service = tmp_path / "svc"
    git(service, "init", "-q", "-b", "main")
    commit_all(service, "Generated")
    said = copier_cli("update", "--trust", "--defaults", "--vcs-ref", "v2.0.0", cwd=service).stderr
    assert "Hello Service updated from the template. Next:" in said
    assert "git diff --check" in said and "make verify" in said and "make template-update" in said
