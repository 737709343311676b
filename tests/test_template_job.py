"""The scheduled template-update job (scripts/template_updates.py in every service), end to end.

A throwaway template repo with two releases (v1.0.0, v2.0.0), a service made at v1.0.0
and pushed to a local bare remote, and a stub forge on loopback speaking the part of
GitHub's (or GitLab's) REST API the job calls (it records every request). Each run starts from a
fresh clone of the remote, as a CI job does. The promises:
- up to date: nothing is pushed, no request is sent;
- a newer release: the branch template-update/v2.0.0 with one commit carrying the
  update, pushed; one pull request with the CHANGELOG entries, conflicts and the
  verification result; the default branch never moves;
- conflicts are committed as markers and listed; a failing verification is marked;
- a second run for the same release updates the request instead of opening another;
  a request closed without merging declines the release; VERIFY=off is "skipped";
- a refused push sends no request;
- a branch with someone else's commits on it is left alone (control: the job's own
  branch is replaced).
Verification without Docker: go on PATH and no docker client (VERIFY=on passes with the
image steps skipped); VERIFY=strict makes those skips a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import GIT_IDENTITY, commit_all, git, env_without_docker, run, template_repo

copier = pytest.importorskip("copier")
from plumbum import local  # noqa: E402  (copier's dependency)

REPO = "acme/payments"
BRANCH = "template-update/v2.0.0"
CHANGELOG = """# Changelog

## [Unreleased]

## [2.0.0]

### Changed
- The image stops on SIGTERM (STOPSIGNAL).

## [1.0.0]

### Added
- The first release.
"""
STOPSIGNAL = "STOPSIGNAL SIGTERM"
TEAM_MIRROR = "registry.example.test/mirror/"


# -- the template, its releases, the service --------------------------------------------


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """v1.0.0: today's tree; v2.0.0: a STOPSIGNAL line and an Alpine-pinned builder image."""
    repo = template_repo(tmp_path_factory.mktemp("job") / "template")
    (repo / "CHANGELOG.md").write_text(CHANGELOG.replace("## [2.0.0]", "## [2.0.0-not-yet]"))
    commit_all(repo, "v1")
    git(repo, "tag", "v1.0.0")
    (repo / "CHANGELOG.md").write_text(CHANGELOG)
    dockerfile = repo / "{{cookiecutter.project_slug}}" / "Dockerfile"
    text = dockerfile.read_text()
    assert text.count('ENTRYPOINT ["{{ bin }}"]') == 1
    dockerfile.write_text(text.replace('ENTRYPOINT ["{{ bin }}"]', f'{STOPSIGNAL}\nENTRYPOINT ["{{{{ bin }}}}"]'))
    logic = repo / "hooks" / "service_template.py"
    old = '"go": "golang:{go_version}-alpine",'
    assert logic.read_text().count(old) == 1
    logic.write_text(logic.read_text().replace(old, '"go": "golang:{go_version}-alpine3.22",'))
    commit_all(repo, "v2")
    git(repo, "tag", "v2.0.0")
    return repo


def service_remote(template: Path, tmp_path: Path, ref: str = "v1.0.0", *, mirror: bool = False) -> Path:
    """A service made at `ref`, committed and pushed to a bare remote (returned)."""
    service = tmp_path / "made"
    with local.env(VERIFY="off", **GIT_IDENTITY):
        copier.run_copy(str(template), str(service), vcs_ref=ref, defaults=True, unsafe=True, quiet=True)
    git(service, "init", "-q", "-b", "main")
    commit_all(service, "Generated")
    if mirror:  # the team's own builder mirror: the line v2 changes too
        dockerfile = service / "Dockerfile"
        dockerfile.write_text(dockerfile.read_text().replace("ARG GO_IMAGE=", f"ARG GO_IMAGE={TEAM_MIRROR}", 1))
        commit_all(service, "Team: builder from our mirror")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(service, "push", "-q", str(remote), "main")
    return remote


def checkout(remote: Path, dst: Path) -> Path:
    """What CI starts from: a fresh clone of the default branch."""
    shutil.rmtree(dst, ignore_errors=True)
    git(remote.parent, "clone", "-q", str(remote), str(dst))
    return dst


# -- a stub forge on loopback -----------------------------------------------------------


class StubGitHub:
    """Pull requests in memory, behind the GitHub REST calls the job makes; every request recorded."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.pulls: list[dict[str, Any]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def answer(self, status: int, payload: Any) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def handle_any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length)) if length else None
                auth = self.headers.get("Authorization") or self.headers.get("PRIVATE-TOKEN")
                stub.requests.append({"method": self.command, "path": self.path, "json": payload, "auth": auth})
                self.answer(*stub.route(self.command, self.path, payload))

            do_GET = do_POST = do_PATCH = do_PUT = handle_any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def route(self, method: str, path: str, payload: Any) -> tuple[int, Any]:
        base = f"/repos/{REPO}/pulls"
        if method == "GET" and path.startswith(base + "?"):
            from urllib.parse import parse_qs, urlsplit

            query = parse_qs(urlsplit(path).query)
            head = query["head"][0].split(":", 1)[1]
            state = query["state"][0]
            return 200, [pull for pull in self.pulls if pull["head"] == head and pull["state"] == state]
        if method == "POST" and path == base:
            pull = {**payload, "number": len(self.pulls) + 1, "state": "open", "merged_at": None}
            pull["html_url"] = f"https://github.example/{REPO}/pull/{pull['number']}"
            self.pulls.append(pull)
            return 201, pull
        if method == "PATCH" and path.startswith(base + "/"):
            pull = self.pulls[int(path.rsplit("/", 1)[1]) - 1]
            pull.update(payload)
            return 200, pull
        return 404, {"message": "Not Found"}


class StubGitLab(StubGitHub):
    """Merge requests behind the GitLab REST calls the job makes (project 42)."""

    def route(self, method: str, path: str, payload: Any) -> tuple[int, Any]:
        from urllib.parse import parse_qs, urlsplit

        base = "/api/v4/projects/42/merge_requests"
        if method == "GET" and path.startswith(base + "?"):
            query = parse_qs(urlsplit(path).query)
            return 200, [merge for merge in self.pulls if merge["source_branch"] == query["source_branch"][0]
                         and merge["state"] == query["state"][0]]  # fmt: skip
        if method == "POST" and path == base:
            merge = {**payload, "iid": len(self.pulls) + 1, "state": "opened"}
            merge["web_url"] = f"https://gitlab.example/acme/payments/-/merge_requests/{merge['iid']}"
            self.pulls.append(merge)
            return 201, merge
        if method == "PUT" and path.startswith(base + "/"):
            merge = self.pulls[int(path.rsplit("/", 1)[1]) - 1]
            merge.update(payload)
            return 200, merge
        return 404, {"message": "404 Not Found"}


@pytest.fixture
def forge() -> Iterator[StubGitHub]:
    stub = StubGitHub()
    yield stub
    stub.server.shutdown()


def run_job(project: Path, forge: StubGitHub, tmp_path: Path, verify: str = "on",
            first_on_path: Path | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
    if isinstance(forge, StubGitLab):
        ci = {"GITLAB_CI": "true", "CI_API_V4_URL": f"{forge.url}/api/v4", "CI_PROJECT_ID": "42"}
    else:
        ci = {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": REPO, "GITHUB_API_URL": forge.url}
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GITLAB_", "CI_"))}, **GIT_IDENTITY,
        **env_without_docker(tmp_path), "VERIFY": verify,
        "TEMPLATE_UPDATE_TOKEN": "test-token", **ci,
    }  # fmt: skip
    if first_on_path:
        env["PATH"] = f"{first_on_path}{os.pathsep}{env['PATH']}"
    return subprocess.run([sys.executable, "scripts/template_updates.py", "request"], cwd=project,
                          capture_output=True, text=True, timeout=900, env=env)  # fmt: skip


def remote_branches(remote: Path) -> dict[str, str]:
    lines = git(remote, "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads").splitlines()
    return dict(line.split() for line in lines)


def trailers(remote: Path, ref: str) -> dict[str, str]:
    text = git(remote, "log", "-1", "--format=%(trailers:only,unfold)", ref)
    return dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)


# -- the tests --------------------------------------------------------------------------


def test_the_script_is_written_byte_for_byte(released: Path, tmp_path: Path) -> None:
    """No Jinja in it: the service runs the very file scripts/fleet.py loads from the template."""
    project = checkout(service_remote(released, tmp_path), tmp_path / "svc")
    source = released / "{{cookiecutter.project_slug}}" / "scripts" / "template_updates.py"
    assert (project / "scripts" / "template_updates.py").read_bytes() == source.read_bytes()


def test_up_to_date_the_job_does_nothing(released: Path, tmp_path: Path, forge: StubGitHub) -> None:
    remote = service_remote(released, tmp_path, "v2.0.0")
    before = remote_branches(remote)
    job = run_job(checkout(remote, tmp_path / "ci"), forge, tmp_path)
    assert job.returncode == 0, job.stderr
    assert "up to date at v2.0.0" in job.stdout
    assert forge.requests == [] and remote_branches(remote) == before


def test_a_new_release_gets_a_branch_and_one_verified_pull_request(
    released: Path, tmp_path: Path, forge: StubGitHub
) -> None:
    remote = service_remote(released, tmp_path)
    main_before = remote_branches(remote)["main"]
    # make, as the job calls it, records the environment the update and its verification get.
    spy = tmp_path / "spy"
    spy.mkdir()
    (spy / "make").write_text(f'#!/bin/sh\nenv >>"{spy}/env.log"\nexec {shutil.which("make")} "$@"\n')
    (spy / "make").chmod(0o755)

    job = run_job(checkout(remote, tmp_path / "ci"), forge, tmp_path, first_on_path=spy)
    assert job.returncode == 0, f"{job.stdout}\n{job.stderr}"
    seen = (spy / "env.log").read_text()
    assert f"GITHUB_REPOSITORY={REPO}" in seen, "the update gets the job's environment"
    assert "TEMPLATE_UPDATE_TOKEN" not in seen and "test-token" not in seen, "the forge token reached the update"

    # The branch: one commit on top of the default branch, which did not move.
    branches = remote_branches(remote)
    assert branches["main"] == main_before and set(branches) == {"main", BRANCH}
    assert git(remote, "rev-list", "--count", f"main..{BRANCH}").strip() == "1"
    assert STOPSIGNAL in git(remote, "show", f"{BRANCH}:Dockerfile")
    assert yaml.safe_load(git(remote, "show", f"{BRANCH}:.copier-answers.yml"))["_commit"] == "v2.0.0"
    assert trailers(remote, BRANCH) == {"Template-Update": "v2.0.0", "Template-Verification": "passed"}

    # The request: lookups (a declined one? an open one?), then one pull request from that
    # branch into main, with the token.
    pulls = f"/repos/{REPO}/pulls"
    assert [(r["method"], r["path"].split("?")[0]) for r in forge.requests] == [
        ("GET", pulls), ("GET", pulls), ("POST", pulls)]  # fmt: skip
    assert ["state=closed" in forge.requests[0]["path"], "state=open" in forge.requests[1]["path"]] == [True, True]
    assert all(r["auth"] == "Bearer test-token" for r in forge.requests)
    pull = forge.requests[2]["json"]
    assert (pull["head"], pull["base"]) == (BRANCH, "main")
    assert pull["title"] == "Template update to v2.0.0"
    body = pull["body"]
    assert "v1.0.0 -> v2.0.0" in body and "**passed**" in body
    assert "The image stops on SIGTERM" in body, "the CHANGELOG entry of v2.0.0"
    assert "The first release" not in body, "v1.0.0's entry is not news"
    assert "## Conflicts\n\nNone." in body

    # Run again for the same release: the same one request, updated; the branch replaced.
    job = run_job(checkout(remote, tmp_path / "ci"), forge, tmp_path)
    assert job.returncode == 0, f"{job.stdout}\n{job.stderr}"
    assert [r["method"] for r in forge.requests[3:]] == ["GET", "GET", "PATCH"]
    assert len(forge.pulls) == 1 and "updated https://" in job.stdout
    assert remote_branches(remote)["main"] == main_before
    assert git(remote, "rev-list", "--count", f"main..{BRANCH}").strip() == "1"


def test_on_gitlab_one_merge_request_per_release(released: Path, tmp_path: Path) -> None:
    forge = StubGitLab()
    try:
        remote = service_remote(released, tmp_path)
        for _ in range(2):
            job = run_job(checkout(remote, tmp_path / "ci"), forge, tmp_path)
            assert job.returncode == 0, f"{job.stdout}\n{job.stderr}"
    finally:
        forge.server.shutdown()
    base = "/api/v4/projects/42/merge_requests"
    assert [(r["method"], r["path"].split("?")[0]) for r in forge.requests] == [
        ("GET", base), ("GET", base), ("POST", base), ("GET", base), ("GET", base), ("PUT", f"{base}/1")]  # fmt: skip
    assert all(r["auth"] == "test-token" for r in forge.requests)
    (merge,) = forge.pulls
    assert (merge["source_branch"], merge["target_branch"]) == (BRANCH, "main")
    assert "**passed**" in merge["description"] and "The image stops on SIGTERM" in merge["description"]
    assert trailers(remote, BRANCH)["Template-Verification"] == "passed"


def test_a_release_whose_request_was_closed_is_skipped(released: Path, tmp_path: Path, forge: StubGitHub) -> None:
    remote = service_remote(released, tmp_path)
    assert run_job(checkout(remote, tmp_path / "ci"), forge, tmp_path).returncode == 0
    forge.pulls[0]["state"] = "closed"  # the team declined v2.0.0
    pushed = remote_branches(remote)[BRANCH]
    job = run_job(checkout(remote, tmp_path / "ci"), forge, tmp_path)
    assert job.returncode == 0 and "closed without merging" in job.stdout
    assert len(forge.pulls) == 1 and forge.requests[-1]["method"] == "GET"
    assert remote_branches(remote)[BRANCH] == pushed
    # Control: reopened, the same request is updated again, not skipped.
    forge.pulls[0].update(state="open")
    assert run_job(checkout(remote, tmp_path / "ci"), forge, tmp_path).returncode == 0
    assert forge.requests[-1]["method"] == "PATCH"


def test_conflicts_are_committed_as_markers_and_listed(released: Path, tmp_path: Path, forge: StubGitHub) -> None:
    remote = service_remote(released, tmp_path, mirror=True)
    job = run_job(checkout(remote, tmp_path / "ci"), forge, tmp_path)
    assert job.returncode == 0, f"{job.stdout}\n{job.stderr}"
    dockerfile = git(remote, "show", f"{BRANCH}:Dockerfile")
    assert "<<<<<<< before updating" in dockerfile and f"ARG GO_IMAGE={TEAM_MIRROR}" in dockerfile
    assert trailers(remote, BRANCH)["Template-Verification"] == "not run"
    pull = forge.pulls[0]
    assert pull["title"] == "Template update to v2.0.0 (1 conflicted, verification not run)"
    assert "## Conflicts\n\n- `Dockerfile`\n" in pull["body"] and "**not run**" in pull["body"]


def test_a_failing_verification_is_marked_in_the_request(released: Path, tmp_path: Path, forge: StubGitHub) -> None:
    """VERIFY=strict with no docker client: the image steps are skipped, which strict fails."""
    remote = service_remote(released, tmp_path)
    job = run_job(checkout(remote, tmp_path / "ci"), forge, tmp_path, verify="strict")
    assert job.returncode == 0, f"{job.stdout}\n{job.stderr}"
    assert trailers(remote, BRANCH)["Template-Verification"] == "failed"
    pull = forge.pulls[0]
    assert "verification failed" in pull["title"] and "**FAILED**" in pull["body"]
    assert "NOT verified (VERIFY=strict)" in pull["body"], "the end of the verification's log"


def test_verify_off_is_never_reported_as_a_pass(released: Path, tmp_path: Path, forge: StubGitHub) -> None:
    remote = service_remote(released, tmp_path)
    job = run_job(checkout(remote, tmp_path / "ci"), forge, tmp_path, verify="off")
    assert job.returncode == 0, f"{job.stdout}\n{job.stderr}"
    assert trailers(remote, BRANCH)["Template-Verification"] == "skipped"
    assert "verification skipped" in forge.pulls[0]["title"] and "**skipped** (VERIFY=off)" in forge.pulls[0]["body"]


def test_a_branch_with_someone_elses_commits_is_left_alone(released: Path, tmp_path: Path, forge: StubGitHub) -> None:
    remote = service_remote(released, tmp_path)
    assert run_job(checkout(remote, tmp_path / "ci"), forge, tmp_path).returncode == 0
    # A reviewer resolves something on the branch.
    work = checkout(remote, tmp_path / "reviewer")
    git(work, "switch", "-q", BRANCH)
    (work / "NOTES.md").write_text("resolved by hand\n")
    commit_all(work, "Reviewer: a fix")
    git(work, "push", "-q", "origin", BRANCH)
    reviewed = remote_branches(remote)[BRANCH]

    job = run_job(checkout(remote, tmp_path / "ci"), forge, tmp_path)
    assert job.returncode == 1 and "not this job's: left alone" in job.stderr
    assert remote_branches(remote)[BRANCH] == reviewed
    assert [r["method"] for r in forge.requests] == ["GET", "GET", "POST", "GET"], "nothing sent but a lookup"

    # Control: the job's own commit on top again (the trailer) and the branch is the job's to replace.
    git(work, "commit", "-q", "--allow-empty", "-m", "Job's\n\nTemplate-Update: v2.0.0")
    git(work, "push", "-q", "origin", BRANCH)
    assert run_job(checkout(remote, tmp_path / "ci"), forge, tmp_path).returncode == 0
    assert remote_branches(remote)[BRANCH] != reviewed
    assert "NOTES.md" not in git(remote, "ls-tree", "--name-only", BRANCH)


def test_a_refused_push_sends_no_request(released: Path, tmp_path: Path, forge: StubGitHub) -> None:
    """The remote refuses the branch (as GitHub refuses GITHUB_TOKEN's push of a workflow change)."""
    remote = service_remote(released, tmp_path)
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'refusing to allow this push' >&2\nexit 1\n")
    hook.chmod(0o755)
    job = run_job(checkout(remote, tmp_path / "ci"), forge, tmp_path)
    assert job.returncode == 1 and "git push of template-update/v2.0.0 failed" in job.stderr
    assert "refusing to allow this push" in job.stderr
    assert [r["method"] for r in forge.requests] == ["GET"], "no request for a branch that is not there"
    assert set(remote_branches(remote)) == {"main"}


def test_make_template_status_says_how_far_behind(released: Path, tmp_path: Path) -> None:
    project = checkout(service_remote(released, tmp_path), tmp_path / "svc")
    env = env_without_docker(tmp_path)
    assert run(["make", "template-status"], cwd=project, env=env).stdout.splitlines()[1:] == [
        "current:  v1.0.0", "newest:   v2.0.0", "status:   1 release(s) behind: make template-update"]  # fmt: skip
    up_to_date = checkout(service_remote(released, tmp_path / "new", "v2.0.0"), tmp_path / "svc2")
    assert run(["make", "template-status"], cwd=up_to_date, env=env).stdout.splitlines()[-1] == "status:   up to date"


def test_the_job_refuses_without_a_token_before_changing_anything(released: Path, tmp_path: Path) -> None:
    remote = service_remote(released, tmp_path)
    project = checkout(remote, tmp_path / "ci")
    env = {**os.environ, **GIT_IDENTITY, **env_without_docker(tmp_path), "GITHUB_REPOSITORY": REPO}
    env.pop("TEMPLATE_UPDATE_TOKEN", None)
    job = subprocess.run([sys.executable, "scripts/template_updates.py", "request"], cwd=project,
                         capture_output=True, text=True, timeout=300, env=env)  # fmt: skip
    assert job.returncode == 1 and job.stderr.startswith("template-updates: TEMPLATE_UPDATE_TOKEN is not set")
    assert set(remote_branches(remote)) == {"main"} and git(project, "status", "--porcelain") == ""
