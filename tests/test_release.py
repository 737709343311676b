"""`make release VERSION=X.Y.Z` on a throwaway clone of this repository: an annotated tag
vX.Y.Z whose message is the CHANGELOG entry, or a refusal that leaves no tag."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, run

GIT = ["git", "-c", "user.name=Release Test", "-c", "user.email=release@example.test", "-c", "commit.gpgsign=false",
       "-c", "tag.gpgsign=false"]
ENTRY = "### Added\n- A release test entry."


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A clone of this repository at HEAD, with this working tree's release tooling
    committed, and a CHANGELOG whose Unreleased lines moved under ## [0.3.0]."""
    repo = tmp_path / "template"
    run(["git", "clone", "--quiet", "--no-local", str(ROOT), str(repo)], cwd=tmp_path)
    for tag in run(["git", "tag", "--list"], cwd=repo).stdout.split():
        run(["git", "tag", "-d", tag], cwd=repo)
    for path in ("Makefile", "scripts/release.py"):
        shutil.copy2(ROOT / path, repo / path)
    changelog = (repo / "CHANGELOG.md").read_text()
    head, rest = changelog.split("## [Unreleased]", 1)
    older = rest[rest.index("\n## [") :] if "\n## [" in rest else ""
    (repo / "CHANGELOG.md").write_text(f"{head}## [Unreleased]\n\n## [0.3.0]\n\n{ENTRY}\n{older}")
    run(["git", "add", "-A"], cwd=repo)
    run([*GIT, "commit", "-qm", "Release 0.3.0"], cwd=repo)
    return repo


def release(repo: Path, version: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "release", f"VERSION={version}", f"PY={sys.executable}"],
        cwd=repo, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(repo.parent), "GIT_CONFIG_GLOBAL": "/dev/null",
             "GIT_COMMITTER_NAME": "Release Test", "GIT_COMMITTER_EMAIL": "release@example.test"},
    )


def tags(repo: Path) -> list[str]:
    return run(["git", "tag", "--list"], cwd=repo).stdout.split()


def test_release_creates_an_annotated_tag_with_the_changelog_entry(clone: Path) -> None:
    proc = release(clone, "0.3.0")
    assert proc.returncode == 0, proc.stderr
    assert tags(clone) == ["v0.3.0"]
    assert run(["git", "cat-file", "-t", "v0.3.0"], cwd=clone).stdout.strip() == "tag", "annotated, not lightweight"
    message = run(["git", "tag", "--list", "--format=%(contents)", "v0.3.0"], cwd=clone).stdout
    assert message.startswith("minimal-go-service 0.3.0\n\n") and ENTRY in message
    tagged = run(["git", "rev-parse", "v0.3.0^{commit}"], cwd=clone).stdout
    assert tagged == run(["git", "rev-parse", "HEAD"], cwd=clone).stdout
    assert "git push origin v0.3.0" in proc.stdout

    # copier reads the tag as the release (PEP 440 0.3.0): a copy records it.
    import copier

    copier.run_copy(str(clone), str(clone.parent / "service"), defaults=True, unsafe=True, quiet=True,
                    skip_tasks=True)
    assert "_commit: v0.3.0\n" in (clone.parent / "service" / ".copier-answers.yml").read_text()


def dirty(repo: Path) -> None:
    (repo / "README.md").write_text((repo / "README.md").read_text() + "\nuncommitted\n")


def untracked(repo: Path) -> None:
    (repo / "notes.txt").write_text("forgotten")


def no_entry(repo: Path) -> None:
    text = (repo / "CHANGELOG.md").read_text().replace("## [0.3.0]", "## [0.2.9]")
    (repo / "CHANGELOG.md").write_text(text)
    run([*GIT, "commit", "-qam", "no entry"], cwd=repo)


def empty_entry(repo: Path) -> None:
    text = (repo / "CHANGELOG.md").read_text().replace(ENTRY, "")
    (repo / "CHANGELOG.md").write_text(text)
    run([*GIT, "commit", "-qam", "empty entry"], cwd=repo)


def unreleased_lines(repo: Path) -> None:
    text = (repo / "CHANGELOG.md").read_text().replace("## [Unreleased]\n", "## [Unreleased]\n\n- forgotten\n")
    (repo / "CHANGELOG.md").write_text(text)
    run([*GIT, "commit", "-qam", "unreleased"], cwd=repo)


def tagged_newer(repo: Path) -> None:
    run([*GIT, "tag", "-a", "v0.4.0", "-m", "newer"], cwd=repo)


def tagged_already(repo: Path) -> None:
    run([*GIT, "tag", "-a", "v0.3.0", "-m", "by hand"], cwd=repo)


@pytest.mark.parametrize(
    ("spoil", "version", "says"),
    [
        (None, "v0.3.0", "without a v"),
        (None, "0.3", "must be X.Y.Z"),
        (None, "", "must be X.Y.Z"),
        (dirty, "0.3.0", "not clean: README.md"),
        (untracked, "0.3.0", "not clean: notes.txt"),
        (no_entry, "0.3.0", "add the CHANGELOG.md entry '## [0.3.0]'"),
        (empty_entry, "0.3.0", "add the CHANGELOG.md entry '## [0.3.0]'"),
        (unreleased_lines, "0.3.0", "move the '## [Unreleased]' lines"),
        (tagged_newer, "0.3.0", "older than the tag v0.4.0"),
        (tagged_already, "0.3.0", "tag v0.3.0 exists already"),
        (None, "0.1.0", "_migrations name 0.2.0, newer than 0.1.0"),
    ],
    ids=lambda v: getattr(v, "__name__", None) or str(v) or "empty",
)
def test_a_refused_release_tags_nothing(clone: Path, spoil, version: str, says: str) -> None:
    if spoil is not None:
        spoil(clone)
    before = tags(clone)
    proc = release(clone, version)
    assert proc.returncode != 0
    assert says in proc.stderr, proc.stderr
    assert tags(clone) == before
