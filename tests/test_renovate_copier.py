"""Renovate's exact copier command, in an environment holding only what Renovate installs.

Renovate's copier manager runs exactly
`copier update --skip-answered --defaults --answers-file F --vcs-ref TAG`, and adds
`--trust` only when self-hosted with `allowScripts` and `ignoreScripts: false`. Its tool
install gives it copier and nothing else. This template needs trust (Jinja extensions,
tasks, migrations) and copier-template-extensions beside copier. So, in a fresh venv:
- the hosted app's command exits 4 ("unsafe features") and changes nothing: why the
  service's renovate.json turns the manager off;
- with --trust but copier alone (what Renovate installs), the update fails and the tree
  is unchanged: the extension package is not optional;
- with --trust and copier-template-extensions added, as docs/updating.md's self-hosted
  setup says, the update goes through.
The venv comes from PyPI with the versions the service's template-update job installs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import GIT_IDENTITY, IN_CI, commit_all, git, run, template_repo

import service_template as st

copier = pytest.importorskip("copier")
from plumbum import local  # noqa: E402  (copier's dependency)

RENOVATE_COMMAND = ["update", "--skip-answered", "--defaults", "--answers-file", ".copier-answers.yml",
                    "--vcs-ref", "v2.0.0"]  # fmt: skip
STOPSIGNAL = "STOPSIGNAL SIGTERM"


@pytest.fixture(scope="module")
def renovate_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with only copier, at the pin the template-update job installs (from PyPI)."""
    venv = tmp_path_factory.mktemp("renovate") / "venv"
    run([sys.executable, "-m", "venv", str(venv)], cwd=venv.parent)
    copier_pin, _ = st.TEMPLATE_UPDATE_TOOLS
    proc = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", copier_pin], capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    if proc.returncode != 0:
        message = f"pip install {copier_pin} failed (PyPI unreachable?): {proc.stderr[-300:]}"
        pytest.fail(message) if IN_CI else pytest.skip(message)
    return venv


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A service made at v1.0.0 of a template whose v2.0.0 adds a STOPSIGNAL line."""
    base = tmp_path_factory.mktemp("renovate-service")
    repo = template_repo(base / "template")
    commit_all(repo, "v1")
    git(repo, "tag", "v1.0.0")
    dockerfile = repo / "{{cookiecutter.project_slug}}" / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace('ENTRYPOINT ["', f'{STOPSIGNAL}\nENTRYPOINT ["', 1))
    commit_all(repo, "v2")
    git(repo, "tag", "v2.0.0")
    project = base / "svc"
    with local.env(VERIFY="off", **GIT_IDENTITY):
        copier.run_copy(str(repo), str(project), vcs_ref="v1.0.0", defaults=True, unsafe=True, quiet=True)
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "Generated")
    return project


def renovate_runs(venv: Path, project: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    settings = project.parent / "no-copier-settings.yml"
    settings.write_text("trust: []\n")  # nothing trusted but what the command line says
    return subprocess.run([str(venv / "bin" / "copier"), *RENOVATE_COMMAND, *extra], cwd=project, capture_output=True,
                          text=True, timeout=600, stdin=subprocess.DEVNULL,
                          env={"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(project.parent),
                               "COPIER_SETTINGS_PATH": str(settings), **GIT_IDENTITY})  # fmt: skip


def test_renovates_command_needs_trust_and_the_extension_package(renovate_venv: Path, service: Path) -> None:
    # The hosted app: no --trust. Refused, exit 4, nothing changed.
    hosted = renovate_runs(renovate_venv, service)
    assert hosted.returncode == 4, hosted.stdout + hosted.stderr
    assert "unsafe features" in hosted.stderr
    assert git(service, "status", "--porcelain") == ""

    # Self-hosted, allowScripts + ignoreScripts: false, with copier alone: the extension is missing.
    alone = renovate_runs(renovate_venv, service, "--trust")
    assert alone.returncode != 0 and "copier_template_extensions" in alone.stderr, alone.stderr[-2000:]
    assert git(service, "status", "--porcelain") == ""

    # What docs/updating.md adds: copier-template-extensions beside copier. Now it updates.
    _, extensions_pin = st.TEMPLATE_UPDATE_TOOLS
    run([str(renovate_venv / "bin" / "pip"), "install", "-q", extensions_pin], cwd=service)
    trusted = renovate_runs(renovate_venv, service, "--trust")
    assert trusted.returncode == 0, trusted.stdout + trusted.stderr
    assert yaml.safe_load((service / ".copier-answers.yml").read_text())["_commit"] == "v2.0.0"
    assert STOPSIGNAL in (service / "Dockerfile").read_text()
