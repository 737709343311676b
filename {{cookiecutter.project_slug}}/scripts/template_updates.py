#!/usr/bin/env python3
"""Template releases for this service: how far behind it is, and one reviewed request per release.

    python3 scripts/template_updates.py status    # `make template-status`
    python3 scripts/template_updates.py request   # the scheduled template-update CI job

`status` asks copier's own `copier check-update` for the current and newest release and
counts the release tags between them.

`request` is what the scheduled CI job runs. When copier sees a newer release it:
1. starts the branch template-update/vX.Y.Z from the default branch;
2. runs `make template-update REF=vX.Y.Z` (scripts/template-update.sh: copier with
   --trust for the one template this service's committed answers file names, then the
   verification);
3. commits the result, conflicts as inline markers so reviewers see them, and pushes the
   branch (never the default branch; a branch someone else has pushed to is left alone);
4. opens, or updates, one pull or merge request for that release: the template's
   CHANGELOG entries since the current release, the conflicted files and the
   verification result. It never merges. A release whose request was closed without
   merging is skipped (declined) until the next release.
When the service is up to date it says so and does nothing else.

The forge call is one small step (GitHubForge, GitLabForge): REST over urllib, its base
URL from the CI's own variables (GITHUB_API_URL, CI_API_V4_URL). Python standard library
only, as copier itself is Python. The template owns this file.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ANSWERS_FILE = ".copier-answers.yml"
BRANCH_PREFIX = "template-update/"
# The trailer that marks the job's own commits: a branch whose tip lacks it has work of
# someone else's on it, and the job does not overwrite it.
JOB_TRAILER = "Template-Update"
VERIFY_TRAILER = "Template-Verification"
# GitHub refuses a pull request body over 65536 characters.
BODY_LIMIT = 60000
# A release as scripts/release.py tags it: vX.Y.Z (copier reads it as PEP 440 X.Y.Z).
RELEASE_TAG_RE = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")
# A release tag at the start of a longer version: what follows it is a suffix (-N-gSHA,
# .postN, +local), never more digits or letters (v2.0.0rc1 is no release).
RELEASE_PREFIX_RE = re.compile(RELEASE_TAG_RE.pattern + r"(?=[-.+]|$)")
CHANGELOG_HEADING_RE = re.compile(r"^## \[(?P<version>[^\]]+)\].*$", re.MULTILINE)


class UpdateError(Exception):
    """A refusal or failure with a one-line reason for the job log."""


# -- pure functions --------------------------------------------------------------------


def answers_value(text: str, key: str) -> str:
    """A top-level `key: value` of copier's answers file (it writes plain YAML scalars)."""
    match = re.search(rf"^{re.escape(key)}: *(.*?) *$", text, re.MULTILINE)
    if not match:
        raise UpdateError(f"{ANSWERS_FILE} has no {key}: was this service made by copier?")
    value = match.group(1)
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return value


def release_version(tag: str) -> tuple[int, int, int] | None:
    """(X, Y, Z) of a release tag vX.Y.Z (or X.Y.Z); None for anything else."""
    match = RELEASE_TAG_RE.fullmatch(tag.strip())
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def release_made_from(commit: str) -> tuple[int, int, int] | None:
    """The release a service was made from or after: its `_commit` is a tag (v2.0.0), a
    commit after one (git describe: v2.0.0-3-gabc1234), or copier's version of either
    (2.0.0, 2.0.0.post3.dev0+gabc1234). None for a commit before any release."""
    match = RELEASE_PREFIX_RE.match(commit.strip())
    return release_version(match[0]) if match else None


def version_text(version: tuple[int, int, int]) -> str:
    return ".".join(map(str, version))


def release_tags(ls_remote: str) -> dict[tuple[int, int, int], str]:
    """Release versions and their tag names from `git ls-remote --tags` output."""
    tags = {}
    for line in ls_remote.splitlines():
        ref = line.split("\t")[-1].removesuffix("^{}")
        name = ref.removeprefix("refs/tags/")
        version = release_version(name)
        if version is not None:
            tags[version] = name
    return tags


def releases_behind(tags: dict[tuple[int, int, int], str], current: str, newest: str) -> int:
    """How many releases are newer than `current`, up to and including `newest`."""
    low, high = release_made_from(current), release_version(newest)
    if high is None:
        return 0 if current == newest else 1
    # A service made from a commit before any release (copier: 0.0.0.postN.devM) is behind
    # every release; one made after vX.Y.Z, behind the releases after it.
    return sum(1 for version in tags if (low is None or low < version) and version <= high)


def changelog_between(changelog: str, current: str, newest: str) -> str:
    """The CHANGELOG.md entries of the releases after `current`, up to `newest`, newest first."""
    low, high = release_made_from(current), release_version(newest)
    headings = list(CHANGELOG_HEADING_RE.finditer(changelog))
    entries = []
    for index, heading in enumerate(headings):
        version = release_version(heading["version"])
        if version is None or high is None or version > high or (low is not None and version <= low):
            continue
        end = headings[index + 1].start() if index + 1 < len(headings) else len(changelog)
        entries.append(changelog[heading.start() : end].strip())
    return "\n\n".join(entries)


def verification_result(conflicts: Sequence[str], verify: str, update_status: int) -> str:
    """What `make template-update` proved: conflicts stop it before the verification, and
    VERIFY=off skips it (never call that a pass)."""
    if conflicts:
        return "not run"
    if verify == "off":
        return "skipped"
    return "passed" if update_status == 0 else "failed"


def branch_name(newest: str) -> str:
    return f"{BRANCH_PREFIX}v{newest}"


@dataclass
class Outcome:
    """What one update produced, for the commit and the request."""

    source: str
    current: str
    newest: str
    conflicts: list[str] = field(default_factory=list)
    verification: str = "passed"  # passed | failed | not run (conflicts) | skipped (VERIFY=off)
    log_tail: str = ""
    changelog: str = ""


def request_title(outcome: Outcome) -> str:
    marks = []
    if outcome.conflicts:
        marks.append(f"{len(outcome.conflicts)} conflicted")
    if outcome.verification != "passed":
        marks.append(f"verification {outcome.verification}")
    suffix = f" ({', '.join(marks)})" if marks else ""
    return f"Template update to v{outcome.newest}{suffix}"


def request_body(outcome: Outcome) -> str:
    """The pull or merge request's description."""
    verdict = {
        "passed": "**passed**: `make verify` on the updated service",
        "failed": "**FAILED**: `make verify` on the updated service (log below); fix on this branch",
        "not run": "**not run**: resolve the conflicts first, then `make verify`",
        "skipped": "**skipped** (VERIFY=off): run `make verify` before merging",
    }[outcome.verification]
    lines = [
        f"Template `{outcome.source}`: v{outcome.current} -> v{outcome.newest}, by `make template-update`.",
        "",
        "## Verification",
        "",
        verdict,
        "",
        "## Conflicts",
        "",
    ]
    if outcome.conflicts:
        lines += [f"- `{path}`" for path in outcome.conflicts]
        lines += ["", "Committed as inline `<<<<<<<` markers: resolve each on this branch, then `make verify`."]
    else:
        lines.append("None.")
    lines += ["", "## Template changes", "", outcome.changelog or "(no CHANGELOG entries for these releases)"]
    if outcome.log_tail:
        lines += ["", "## Verification log (end)", "", "```text", outcome.log_tail, "```"]
    lines += ["", "Opened by the scheduled template-update job; it never merges. Review, then merge."]
    body = "\n".join(lines)
    return body if len(body) <= BODY_LIMIT else body[: BODY_LIMIT - 40] + "\n\n(cut: the full log is in the job)"


def commit_message(outcome: Outcome) -> str:
    conflicts = "".join(f"\n  {path}" for path in outcome.conflicts)
    summary = f"\n\nConflicts left as markers:{conflicts}" if conflicts else ""
    return (
        f"Template update to v{outcome.newest}\n\nFrom v{outcome.current} ({outcome.source}).{summary}\n\n"
        f"{JOB_TRAILER}: v{outcome.newest}\n{VERIFY_TRAILER}: {outcome.verification}\n"
    )


# -- the forge: one thin, replaceable step ----------------------------------------------


def http_json(method: str, url: str, headers: dict[str, str], payload: Any = None) -> Any:
    data = None if payload is None else json.dumps(payload).encode()
    headers = {**headers, "Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            text = response.read().decode()
    except urllib.error.HTTPError as exc:
        raise UpdateError(f"{method} {url}: HTTP {exc.code}: {exc.read().decode(errors='replace')[:300]}") from exc
    except urllib.error.URLError as exc:
        raise UpdateError(f"{method} {url}: {exc.reason}") from exc
    return json.loads(text) if text else None


class GitHubForge:
    """Pull requests through GitHub's REST API (GITHUB_API_URL, GITHUB_REPOSITORY)."""

    git_user = "x-access-token"

    def __init__(self, env: dict[str, str], token: str) -> None:
        self.api = env.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
        self.repo = env["GITHUB_REPOSITORY"]
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
                        "X-GitHub-Api-Version": "2022-11-28"}  # fmt: skip

    def _pulls(self, branch: str, base: str, state: str) -> Any:
        owner = self.repo.split("/")[0]
        query = urllib.parse.urlencode({"head": f"{owner}:{branch}", "base": base, "state": state})
        return http_json("GET", f"{self.api}/repos/{self.repo}/pulls?{query}", self.headers)

    def declined(self, branch: str, base: str) -> str:
        """The URL of a pull request for this branch closed without merging, or ''."""
        closed = [pull for pull in self._pulls(branch, base, "closed") if not pull.get("merged_at")]
        return closed[0]["html_url"] if closed else ""

    def open_or_update(self, branch: str, base: str, title: str, body: str) -> str:
        found = self._pulls(branch, base, "open")
        if found:
            number = found[0]["number"]
            pull = http_json("PATCH", f"{self.api}/repos/{self.repo}/pulls/{number}", self.headers,
                             {"title": title, "body": body})  # fmt: skip
            return f"updated {pull['html_url']}"
        pull = http_json("POST", f"{self.api}/repos/{self.repo}/pulls", self.headers,
                         {"title": title, "body": body, "head": branch, "base": base})  # fmt: skip
        return f"opened {pull['html_url']}"


class GitLabForge:
    """Merge requests through GitLab's REST API (CI_API_V4_URL, CI_PROJECT_ID)."""

    git_user = "oauth2"

    def __init__(self, env: dict[str, str], token: str) -> None:
        self.api = env["CI_API_V4_URL"].rstrip("/")
        self.project = urllib.parse.quote(env["CI_PROJECT_ID"], safe="")
        self.headers = {"PRIVATE-TOKEN": token}

    def _merges(self, branch: str, base: str, state: str) -> Any:
        query = urllib.parse.urlencode({"source_branch": branch, "target_branch": base, "state": state})
        return http_json("GET", f"{self.api}/projects/{self.project}/merge_requests?{query}", self.headers)

    def declined(self, branch: str, base: str) -> str:
        """The URL of a merge request for this branch closed without merging, or ''."""
        closed = self._merges(branch, base, "closed")
        return closed[0]["web_url"] if closed else ""

    def open_or_update(self, branch: str, base: str, title: str, body: str) -> str:
        found = self._merges(branch, base, "opened")
        if found:
            iid = found[0]["iid"]
            merge = http_json("PUT", f"{self.api}/projects/{self.project}/merge_requests/{iid}", self.headers,
                              {"title": title, "description": body})  # fmt: skip
            return f"updated {merge['web_url']}"
        merge = http_json("POST", f"{self.api}/projects/{self.project}/merge_requests", self.headers,
                          {"title": title, "description": body, "source_branch": branch,
                           "target_branch": base, "remove_source_branch": True})  # fmt: skip
        return f"opened {merge['web_url']}"


def forge_for(env: dict[str, str]) -> GitHubForge | GitLabForge:
    """The forge this job runs on, from the CI's own variables; the token from TEMPLATE_UPDATE_TOKEN."""
    token = env.get("TEMPLATE_UPDATE_TOKEN", "")
    if not token:
        raise UpdateError("TEMPLATE_UPDATE_TOKEN is not set: the job needs it to push the branch and open the request")
    if env.get("GITLAB_CI") or env.get("CI_API_V4_URL"):
        return GitLabForge(env, token)
    if env.get("GITHUB_ACTIONS") or env.get("GITHUB_REPOSITORY"):
        return GitHubForge(env, token)
    raise UpdateError("neither GitHub Actions nor GitLab CI: set GITHUB_REPOSITORY or CI_API_V4_URL and CI_PROJECT_ID")


# -- git and copier ---------------------------------------------------------------------


def sh(*argv: str, check: bool = True, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, env=env)
    if check and proc.returncode != 0:
        raise UpdateError(f"{' '.join(argv[:3])} failed: {(proc.stderr or proc.stdout).strip()[-500:]}")
    return proc.stdout


def check_update() -> dict[str, Any]:
    """copier's own answer: {"update_available", "current_version", "latest_version"}."""
    proc = subprocess.run(["copier", "check-update", "--output-format", "json", "--answers-file", ANSWERS_FILE],
                          capture_output=True, text=True)  # fmt: skip
    if proc.returncode != 0:
        raise UpdateError(f"copier check-update failed: {(proc.stderr or proc.stdout).strip()[-500:]}")
    return json.loads(proc.stdout)


def template_source() -> tuple[str, str]:
    if not Path(ANSWERS_FILE).is_file():
        raise UpdateError(f"no {ANSWERS_FILE}: this updates services made by copier (a cookiecutter one: cruft update)")
    text = Path(ANSWERS_FILE).read_text()
    return answers_value(text, "_src_path"), answers_value(text, "_commit")


def git_source(source: str) -> str:
    """copier's gh:/gl: shortcuts as git URLs."""
    for prefix, host in (("gh:", "https://github.com/"), ("gl:", "https://gitlab.com/")):
        if source.startswith(prefix):
            return host + source[len(prefix) :]
    return source


def status_lines() -> list[str]:
    source, _ = template_source()
    check = check_update()
    current, newest = check["current_version"], check["latest_version"]
    behind = releases_behind(release_tags(sh("git", "ls-remote", "--tags", git_source(source))), current, newest)
    state = f"{behind} release(s) behind: make template-update" if check["update_available"] else "up to date"
    return [f"template: {source}", f"current:  v{current}", f"newest:   v{newest}", f"status:   {state}"]


def conflicted_files() -> list[str]:
    """Files git reports unmerged, and changed or new files holding a conflict marker."""
    paths = set(sh("git", "diff", "--name-only", "--diff-filter=U").split("\n"))
    changed = sh("git", "status", "--porcelain", "--untracked-files=all", "-z").split("\0")
    for entry in changed:
        path = entry[3:]
        if path and Path(path).is_file():
            try:
                if re.search(r"^<<<<<<< ", Path(path).read_text(errors="replace"), re.MULTILINE):
                    paths.add(path)
            except OSError:
                pass
    return sorted(path for path in paths if path)


def changelog_of(source: str, tag: str, current: str, newest: str) -> str:
    with tempfile.TemporaryDirectory() as clone:
        sh("git", "clone", "-q", "--bare", git_source(source), clone)
        text = sh("git", "--git-dir", clone, "show", f"{tag}:CHANGELOG.md", check=False)
    return changelog_between(text, current, newest)


def push_env(remote_url: str, user: str, token: str) -> dict[str, str]:
    """The token as an HTTP header for this one push: checkout persisted no credentials."""
    env = dict(os.environ)
    if token and remote_url.startswith("https://"):
        basic = base64.b64encode(f"{user}:{token}".encode()).decode()
        env.update(GIT_CONFIG_COUNT="1", GIT_CONFIG_KEY_0="http.extraheader",
                   GIT_CONFIG_VALUE_0=f"AUTHORIZATION: basic {basic}")  # fmt: skip
    return env


def request(env: dict[str, str]) -> int:
    if sh("git", "status", "--porcelain", "--untracked-files=all"):
        raise UpdateError("the tree has uncommitted changes: the job starts from a clean checkout")
    source, _ = template_source()
    check = check_update()
    current, newest = check["current_version"], check["latest_version"]
    if not check["update_available"]:
        print(f"template-updates: up to date at v{current} ({source}): nothing to do")
        return 0
    forge = forge_for(env)  # before any work: a missing token fails fast
    tags = release_tags(sh("git", "ls-remote", "--tags", git_source(source)))
    version = release_version(newest)
    tag = tags.get(version) if version else None
    if tag is None:
        raise UpdateError(f"copier reports v{newest}, but {source} has no release tag for it")
    base = env.get("TEMPLATE_UPDATE_BASE") or sh("git", "rev-parse", "--abbrev-ref", "HEAD").strip()
    branch = branch_name(newest)
    if branch == base:
        raise UpdateError(f"refusing to push to {base}, the default branch")
    # A team that closed this release's request has declined it: no new one every week.
    declined = forge.declined(branch, base)
    if declined:
        print(f"template-updates: the request for v{newest} was closed without merging ({declined}): "
              "skipping this release; the next one gets a new request")
        return 0
    remote = env.get("TEMPLATE_UPDATE_REMOTE", "origin")
    remote_url = sh("git", "remote", "get-url", "--push", remote).strip()
    pushed = push_env(remote_url, forge.git_user, env.get("TEMPLATE_UPDATE_TOKEN", ""))
    existing = sh("git", "ls-remote", "--heads", remote, f"refs/heads/{branch}", env=pushed).split()
    if existing:
        sh("git", "fetch", "-q", remote, f"refs/heads/{branch}", env=pushed)
        trailer = sh("git", "log", "-1", f"--format=%(trailers:key={JOB_TRAILER},valueonly)", "FETCH_HEAD").strip()
        if trailer != f"v{newest}":
            raise UpdateError(f"{branch} has commits that are not this job's: left alone (delete it to start over)")

    print(f"template-updates: v{current} -> v{newest} ({source}) on {branch}", flush=True)
    sh("git", "switch", "-q", "-C", branch)
    # The forge token stays with the push and the request: the update runs the template's
    # migrations and the service's verification, which need none.
    update_env = {name: value for name, value in env.items() if name != "TEMPLATE_UPDATE_TOKEN"}
    update = subprocess.run(["make", "--no-print-directory", "template-update", f"REF={tag}"],
                            capture_output=True, text=True, env=update_env)  # fmt: skip
    log = update.stdout + update.stderr
    print(log, end="", flush=True)
    conflicts = conflicted_files()
    if not sh("git", "status", "--porcelain", "--untracked-files=all"):
        if update.returncode != 0:
            raise UpdateError("make template-update failed (above) and changed nothing: no request")
        print("template-updates: the update changed nothing: no request")
        return 0
    verification = verification_result(conflicts, env.get("VERIFY", "on"), update.returncode)
    outcome = Outcome(source, current, newest, conflicts, verification,
                      "\n".join(log.strip().splitlines()[-40:]) if verification == "failed" else "",
                      changelog_of(source, tag, current, newest))  # fmt: skip
    sh("git", "add", "-A")
    sh("git", "commit", "-q", "--no-verify", "-m", commit_message(outcome))
    push = subprocess.run(["git", "push", "-q", "--force", remote, f"HEAD:refs/heads/{branch}"],
                          capture_output=True, text=True, env=pushed)  # fmt: skip
    if push.returncode != 0:
        reason = (push.stderr or push.stdout).strip()[-500:]
        changed = sh("git", "diff", "--name-only", "HEAD~1", "HEAD").split()
        workflows = [path for path in changed if path.startswith(".github/workflows/")]
        hint = (f" The update changes {', '.join(workflows)}: GITHUB_TOKEN may not push workflow files; use a"
                " TEMPLATE_UPDATE_TOKEN with the Workflows permission (docs: updating).") if workflows else ""
        raise UpdateError(f"git push of {branch} failed: {reason}.{hint}")
    done = forge.open_or_update(branch, base, request_title(outcome), request_body(outcome))
    print(f"template-updates: pushed {branch}; {done}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["status", "request"])
    args = parser.parse_args(argv)
    os.chdir(Path(__file__).resolve().parent.parent)
    try:
        if args.command == "status":
            print("\n".join(status_lines()))
            return 0
        return request(dict(os.environ))
    except UpdateError as exc:
        print(f"template-updates: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
