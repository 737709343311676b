"""The fleet: every service made from this template, how far behind it is, and updating them.

    python scripts/fleet.py status SERVICE...            # one table
    python scripts/fleet.py update [--ref vX.Y.Z] PATH... # each on its own branch, then a summary
    python scripts/fleet.py status --file services.txt   # one service a line (# comments)

A SERVICE is a local checkout or a git URL (cloned bare, read only). The table: the
template release each service records (`_commit` in .copier-answers.yml), the newest
release tag of its template (`_src_path`), how many releases behind, and the last
verification result it can see: the `Template-Verification` trailer of the newest
template-update commit on any of its branches (what the scheduled job and `update` write).

`update` runs, in each local checkout, `make template-update` on the branch
template-update/vX.Y.Z and commits the result with the same message and trailers as the
scheduled job (conflicts as markers). It goes on past a failure and ends with a summary;
the exit status is 1 when any service failed. Nothing is pushed.

The release arithmetic and the commit are the service's own scripts/template_updates.py
(the template's copy, loaded from the template tree): one implementation for both.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
SERVICE_SCRIPT = ROOT / "{{cookiecutter.project_slug}}" / "scripts" / "template_updates.py"


def _load_service_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("template_updates", SERVICE_SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


tu = _load_service_script()
COLUMNS = ("service", "template", "newest", "behind", "last verification")


# -- pure functions --------------------------------------------------------------------


def parse_services(lines: Sequence[str]) -> list[str]:
    """Services from a list file: one a line; blank lines and # comments skipped."""
    return [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]


def is_url(service: str) -> bool:
    return "://" in service or service.startswith("git@") or service.endswith(".git")


@dataclass
class Row:
    service: str
    template: str = "?"
    newest: str = "?"
    behind: str = "?"
    verification: str = "none seen"
    error: str = ""

    def cells(self) -> tuple[str, ...]:
        if self.error:
            return (self.service, "error", "", "", self.error)
        return (self.service, self.template, self.newest, self.behind, self.verification)


def release_row(service: str, answers: str, ls_remote: str, verification: str) -> Row:
    """A service's row from its answers file, its template's tags and its last verification."""
    commit = tu.answers_value(answers, "_commit")
    tags = tu.release_tags(ls_remote)
    if not tags:
        return Row(service, commit, "no release", "?", verification)
    newest = max(tags)
    behind = tu.releases_behind(tags, commit, tu.version_text(newest))
    return Row(service, commit, tags[newest], str(behind), verification)


def last_verification(log: str) -> str:
    """From `git log --source --format=%(trailers:key=Template-Verification,valueonly,separator=%x2C)%x09%S`,
    newest first: the result and the ref it was seen on."""
    for line in log.splitlines():
        result, _, ref = line.partition("\t")
        if result.strip():
            return f"{result.strip()} ({ref.strip()})" if ref.strip() else result.strip()
    return "none seen"


def format_table(rows: Sequence[Row]) -> str:
    table = [COLUMNS, *(row.cells() for row in rows)]
    widths = [max(len(cells[i]) for cells in table) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(cells, widths)).rstrip() for cells in table)


def summary(results: Sequence[tuple[str, str, bool]]) -> str:
    """`update`'s closing lines: each service's outcome, then the count."""
    failed = sum(1 for _, _, ok in results if not ok)
    lines = [f"{'ok    ' if ok else 'FAILED'}  {service}: {outcome}" for service, outcome, ok in results]
    lines.append(f"{len(results) - failed} of {len(results)} updated or up to date, {failed} failed")
    return "\n".join(lines)


# -- git ---------------------------------------------------------------------------------


def git(*args: str, cwd: Path | None = None, check: bool = True) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise tu.UpdateError(f"git {args[0]}: {(proc.stderr or proc.stdout).strip()[-300:]}")
    return proc.stdout


@contextlib.contextmanager
def readable(service: str) -> Iterator[Path]:
    """A git directory to read the service from: the checkout itself, or a bare clone of a URL."""
    if not is_url(service):
        path = Path(service)
        if not (path / ".git").exists():
            raise tu.UpdateError("not a git checkout")
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="fleet-") as clone:
        git("clone", "-q", "--bare", "--filter=blob:none", service, clone)
        yield Path(clone)


def service_row(service: str, ls_remote: Callable[[str], str]) -> Row:
    try:
        with readable(service) as repo:
            answers = git("show", f"HEAD:{tu.ANSWERS_FILE}", cwd=repo)
            trailer = f"%(trailers:key={tu.VERIFY_TRAILER},valueonly,separator=%x2C)"
            log = git("log", "--all", "--source", f"--grep=^{tu.VERIFY_TRAILER}:", f"--format={trailer}%x09%S", cwd=repo)
            source = tu.git_source(tu.answers_value(answers, "_src_path"))
            return release_row(service, answers, ls_remote(source), last_verification(log))
    except tu.UpdateError as exc:
        return Row(service, error=str(exc))


def cached_ls_remote() -> Callable[[str], str]:
    seen: dict[str, str] = {}

    def lookup(source: str) -> str:
        if source not in seen:
            seen[source] = git("ls-remote", "--tags", source)
        return seen[source]

    return lookup


def update_service(service: str, ref: str, ls_remote: Callable[[str], str]) -> tuple[str, bool]:
    """One local checkout onto template-update/vX.Y.Z, committed; (outcome, ok)."""
    if is_url(service):
        return "a git URL: update a local checkout of it (nothing is pushed)", False
    path = Path(service)
    if not (path / ".git").exists():
        return "not a git checkout", False
    if git("status", "--porcelain", "--untracked-files=all", cwd=path):
        return "uncommitted changes: commit or stash them first (nothing changed)", False
    answers = (path / tu.ANSWERS_FILE).read_text()
    source = tu.git_source(tu.answers_value(answers, "_src_path"))
    tags = tu.release_tags(ls_remote(source))
    if not tags:
        return f"{source} has no release tag", False
    target = tu.release_version(ref) if ref else max(tags)
    if target not in tags:
        return f"{source} has no release {ref}", False
    commit = tu.answers_value(answers, "_commit")
    current_version = tu.release_made_from(commit)
    if current_version is not None and current_version >= target:
        return f"up to date at {commit}", True
    newest = tu.version_text(target)
    branch = tu.branch_name(newest)
    start = git("rev-parse", "--abbrev-ref", "HEAD", cwd=path).strip()
    git("switch", "-q", "-c", branch, cwd=path)
    update = subprocess.run(["make", "--no-print-directory", "template-update", f"REF={tags[target]}"], cwd=path,
                            capture_output=True, text=True)  # fmt: skip
    with contextlib.chdir(path):
        conflicts = tu.conflicted_files()
        changed = bool(git("status", "--porcelain", "--untracked-files=all"))
    if not changed:
        git("switch", "-q", start, cwd=path)
        git("branch", "-q", "-D", branch, cwd=path)
        if update.returncode != 0:
            tail = (update.stderr or update.stdout).strip().splitlines()[-1:]
            return f"make template-update failed, nothing changed: {' '.join(tail)}", False
        return "the update changed nothing", True
    verification = tu.verification_result(conflicts, os.environ.get("VERIFY", "on"), update.returncode)
    current = tu.version_text(current_version) if current_version else commit
    outcome = tu.Outcome(tu.answers_value(answers, "_src_path"), current, newest, conflicts, verification)
    git("add", "-A", cwd=path)
    git("commit", "-q", "--no-verify", "-m", tu.commit_message(outcome), cwd=path)
    if conflicts:
        return f"{branch}: conflicts in {', '.join(conflicts)} (committed as markers)", False
    if verification == "failed":
        return f"{branch}: committed, but the verification failed", False
    if verification == "skipped":
        return f"{branch}: committed, not verified (VERIFY=off); push it and open a request", True
    return f"{branch}: committed and verified; push it and open a request", True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["status", "update"])
    parser.add_argument("services", nargs="*", help="local checkouts or git URLs")
    parser.add_argument("--file", type=Path, help="a file listing services, one a line")
    parser.add_argument("--ref", default="", help="update: this release tag instead of the newest")
    args = parser.parse_args(argv)
    services = list(args.services)
    if args.file:
        try:
            services += parse_services(args.file.read_text().splitlines())
        except OSError as exc:
            parser.error(f"cannot read --file: {exc.strerror}")
    if not services:
        parser.error("name at least one service (a path or git URL), or --file")
    if args.ref and tu.release_version(args.ref) is None:
        parser.error(f"--ref must be a release tag such as v1.2.3, not {args.ref!r}")
    ls_remote = cached_ls_remote()
    if args.command == "status":
        rows = [service_row(service, ls_remote) for service in services]
        print(format_table(rows))
        return 1 if any(row.error for row in rows) else 0
    results = []
    for service in services:
        try:
            outcome, ok = update_service(service, args.ref, ls_remote)
        except (tu.UpdateError, OSError) as exc:
            outcome, ok = f"failed: {exc}", False
        print(f"fleet: {service}: {outcome}", flush=True)
        results.append((service, outcome, ok))
    print(summary(results))
    return 0 if all(ok for _, _, ok in results) else 1


if __name__ == "__main__":
    sys.exit(main())
