"""scripts/fleet.py: one table for a list of services, and updating each on its own branch.

Its pure functions first, then the command against real git repos: a template with two
releases (v1.0.0, v2.0.0), a service at each, one of them only as a git URL (a bare
remote) whose template-update branch records a failed verification, and a path that is
no service. `update` goes on past the failures and ends with a summary.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import GIT_IDENTITY, ROOT, commit_all, git, env_without_docker, template_repo

copier = pytest.importorskip("copier")
from plumbum import local  # noqa: E402  (copier's dependency)

sys.path.insert(0, str(ROOT / "scripts"))
import fleet  # noqa: E402

FLEET = ROOT / "scripts" / "fleet.py"
LS_REMOTE = (
    "aaa\trefs/tags/v1.0.0\nbbb\trefs/tags/v1.1.0\nbbb\trefs/tags/v1.1.0^{}\nccc\trefs/tags/v2.0.0\nddd\trefs/tags/nightly\n"
)


# -- pure functions --------------------------------------------------------------------


def test_parse_services_skips_blanks_and_comments() -> None:
    assert fleet.parse_services(["billing  # the big one", "", "  # retired: ledger", "https://x/y.git"]) == [
        "billing", "https://x/y.git"]  # fmt: skip


def test_release_row_counts_the_releases_between() -> None:
    row = fleet.release_row("billing", "_commit: v1.0.0\n_src_path: gh:acme/t\n", LS_REMOTE, "passed")
    assert row.cells() == ("billing", "v1.0.0", "v2.0.0", "2", "passed")
    untagged = fleet.release_row("ledger", "_commit: e6d55ca\n_src_path: gh:acme/t\n", LS_REMOTE, "none seen")
    assert untagged.behind == "3", "a service made from an untagged commit is behind every release"
    assert fleet.release_row("x", "_commit: v2.0.0\n", LS_REMOTE, "").behind == "0"


def test_last_verification_is_the_newest_trailer_and_where_it_is() -> None:
    log = "\t\nfailed\trefs/heads/template-update/v2.0.0\npassed\trefs/heads/main\n"
    assert fleet.last_verification(log) == "failed (refs/heads/template-update/v2.0.0)"
    assert fleet.last_verification("") == "none seen"


def test_format_table_aligns_columns_and_shows_errors() -> None:
    rows = [fleet.Row("a", "v1.0.0", "v2.0.0", "1", "passed"), fleet.Row("bb", error="not a git checkout")]
    table = fleet.format_table(rows)
    assert table.splitlines() == [
        "service  template  newest  behind  last verification",
        "a        v1.0.0    v2.0.0  1       passed",
        "bb       error                     not a git checkout",
    ]


def test_summary_counts_failures() -> None:
    text = fleet.summary([("a", "committed", True), ("b", "conflicts in Dockerfile", False)])
    assert text.splitlines() == ["ok      a: committed", "FAILED  b: conflicts in Dockerfile",
                                 "1 of 2 updated or up to date, 1 failed"]  # fmt: skip


# -- the command ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = template_repo(tmp_path_factory.mktemp("fleet") / "template")
    commit_all(repo, "v1")
    git(repo, "tag", "v1.0.0")
    dockerfile = repo / "{{cookiecutter.project_slug}}" / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace('ENTRYPOINT ["', 'STOPSIGNAL SIGTERM\nENTRYPOINT ["', 1))
    commit_all(repo, "v2")
    git(repo, "tag", "v2.0.0")
    return repo


def make_service(template: Path, dst: Path, ref: str) -> Path:
    with local.env(VERIFY="off", **GIT_IDENTITY):
        copier.run_copy(str(template), str(dst), vcs_ref=ref, defaults=True, unsafe=True, quiet=True)
    git(dst, "init", "-q", "-b", "main")
    commit_all(dst, "Generated")
    return dst


def run_fleet(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(FLEET), *args], cwd=cwd, capture_output=True, text=True, timeout=900,
                          env={**os.environ, **GIT_IDENTITY, **(env or {})})  # fmt: skip


def test_status_prints_one_table_for_paths_and_urls(released: Path, tmp_path: Path) -> None:
    old = make_service(released, tmp_path / "billing", "v1.0.0")
    current = make_service(released, tmp_path / "ledger", "v2.0.0")
    # ledger, as its forge has it: a bare remote with the job's branch, verification failed.
    git(current, "switch", "-q", "-c", "template-update/v2.0.0")
    git(current, "commit", "-q", "--allow-empty", "-m", "Template update\n\nTemplate-Verification: failed")
    remote = tmp_path / "ledger.git"
    git(tmp_path, "clone", "-q", "--bare", str(current), str(remote))
    listing = tmp_path / "services.txt"
    listing.write_text(f"{old}\n# the ledger, by URL\nfile://{remote}\n{tmp_path / 'nowhere'}\n")

    status = run_fleet("status", "--file", str(listing), cwd=tmp_path)
    assert status.returncode == 1, "a service that could not be read fails the run"
    rows = [line.split() for line in status.stdout.splitlines()]
    assert rows[0] == ["service", "template", "newest", "behind", "last", "verification"]
    assert rows[1] == [str(old), "v1.0.0", "v2.0.0", "1", "none", "seen"]
    assert rows[2] == [f"file://{remote}", "v2.0.0", "v2.0.0", "0", "failed", "(refs/heads/template-update/v2.0.0)"]
    assert rows[3][:2] == [str(tmp_path / "nowhere"), "error"]


def test_update_goes_on_past_failures_and_sums_up(released: Path, tmp_path: Path) -> None:
    behind = make_service(released, tmp_path / "billing", "v1.0.0")
    dirty = make_service(released, tmp_path / "payments", "v1.0.0")
    (dirty / "scratch.txt").write_text("work in progress\n")
    current = make_service(released, tmp_path / "ledger", "v2.0.0")

    result = run_fleet("update", str(dirty), str(behind), str(tmp_path / "nowhere"), str(current), cwd=tmp_path,
                       env=env_without_docker(tmp_path))  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-5:] == [
        f"FAILED  {dirty}: uncommitted changes: commit or stash them first (nothing changed)",
        f"ok      {behind}: template-update/v2.0.0: committed and verified; push it and open a request",
        f"FAILED  {tmp_path / 'nowhere'}: not a git checkout",
        f"ok      {current}: up to date at v2.0.0",
        "2 of 4 updated or up to date, 2 failed",
    ], result.stdout + result.stderr
    # The updated service: on its own branch, one commit with the job's trailers; main untouched.
    assert git(behind, "rev-parse", "--abbrev-ref", "HEAD").strip() == "template-update/v2.0.0"
    assert git(behind, "rev-list", "--count", "main..HEAD").strip() == "1"
    assert "Template-Verification: passed" in git(behind, "log", "-1", "--format=%B")
    assert yaml.safe_load((behind / ".copier-answers.yml").read_text())["_commit"] == "v2.0.0"
    assert "STOPSIGNAL SIGTERM" in (behind / "Dockerfile").read_text()
    assert "STOPSIGNAL" not in git(behind, "show", "main:Dockerfile")
    # The failures lost nothing.
    assert (dirty / "scratch.txt").read_text() == "work in progress\n"
    assert git(dirty, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"


def test_bad_arguments_get_one_line(tmp_path: Path) -> None:
    cases = [(["status"], "name at least one service"), (["update", "x", "--ref", "main"], "--ref must be"),
             (["status", "--file", str(tmp_path / "none.txt")], "cannot read --file")]  # fmt: skip
    for args, message in cases:
        proc = run_fleet(*args, cwd=tmp_path)
        assert proc.returncode == 2 and message in proc.stderr.splitlines()[-1]


THREE_TAGS = {(1, 0, 0): "v1.0.0", (2, 0, 0): "v2.0.0", (3, 0, 0): "v3.0.0"}
THREE_RELEASES = "".join(f"{i}abc\trefs/tags/{tag}\n" for i, tag in enumerate(THREE_TAGS.values()))


@pytest.mark.parametrize("commit", ["v2.0.0", "v2.0.0-3-gabc1234", "2.0.0.post3.dev0+gabc1234"])
def test_a_service_made_at_or_after_a_release_counts_from_that_release(commit: str) -> None:
    """copier records a commit after a tag as `git describe` has it, and check-update
    reports it as a post-release version: both are v2.0.0 and then some, one release behind."""
    tu = fleet.tu
    assert tu.release_made_from(commit) == (2, 0, 0)
    assert tu.releases_behind(THREE_TAGS, commit, "3.0.0") == 1
    changelog = "# Changelog\n\n## [3.0.0]\n\nthree\n\n## [2.0.0]\n\ntwo\n\n## [1.0.0]\n\none\n"
    assert tu.changelog_between(changelog, commit, "3.0.0") == "## [3.0.0]\n\nthree"
    row = fleet.release_row("svc", f"_commit: {commit}\n_src_path: x\n", THREE_RELEASES, "none seen")
    assert (row.newest, row.behind) == ("v3.0.0", "1")
    # The control: read as a tag, such a commit is no release at all, behind every one.
    if commit != "v2.0.0":
        assert tu.release_version(commit) is None


@pytest.mark.parametrize("commit", ["abc1234", "v2.0.0rc1", "2.0", "x2.0.0"])
def test_a_commit_that_is_no_release_is_behind_every_release(commit: str) -> None:
    assert fleet.tu.release_made_from(commit) is None
    assert fleet.tu.releases_behind(THREE_TAGS, commit, "3.0.0") == 3


def test_a_commit_before_the_first_release_is_behind_every_release() -> None:
    """copier's version of a commit before any tag: 0.0.0.postN.devM."""
    assert fleet.tu.releases_behind(THREE_TAGS, "0.0.0.post5.dev0+gabc1234", "3.0.0") == 3


def test_the_verification_result_is_one_function_for_the_job_and_the_fleet() -> None:
    result = fleet.tu.verification_result
    assert [result([], "on", 0), result([], "strict", 2), result(["Makefile"], "on", 0), result([], "off", 0)] == [
        "passed", "failed", "not run", "skipped"]  # fmt: skip
