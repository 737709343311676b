"""Tag a release of the template: `make release VERSION=0.3.0`.

A release is an annotated git tag `vX.Y.Z` (copier and Renovate read it as the PEP 440
version X.Y.Z); its message is the CHANGELOG.md entry `## [X.Y.Z]`. The tag is the one
place the version lives. The checks come first, and a refusal creates nothing:
- the tree is clean (a file left out of the commit would be left out of the release);
- X.Y.Z is newer than every release tag, and no tag vX.Y.Z exists;
- CHANGELOG.md has an entry `## [X.Y.Z]` with at least one line `- ...`, and nothing is
  left under `## [Unreleased]` (what is committed is released);
- no `_migrations` entry in copier.yml names a newer version (it would never run for an
  update to this release).
Then it creates the tag, and prints how to push it. It never pushes.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

_VERSION_RE = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")
_HEADING_RE = re.compile(r"^## \[([^\]]+)\]", re.M)


def version_key(version: str) -> tuple[int, ...] | None:
    """X.Y.Z as numbers, or None when `version` is not a plain X.Y.Z."""
    match = _VERSION_RE.fullmatch(version)
    return tuple(int(part) for part in match.groups()) if match else None


def changelog_entry(changelog: str, heading: str) -> str | None:
    """The text under `## [heading]` up to the next `## [`, or None without that heading."""
    parts = _HEADING_RE.split(changelog)
    # split gives [before, heading1, body1, heading2, body2, ...]
    for name, body in zip(parts[1::2], parts[2::2]):
        if name == heading:
            return body.strip()
    return None


def has_entries(text: str | None) -> bool:
    return bool(text) and any(line.startswith("- ") for line in text.splitlines())


def release_problems(
    version: str, changelog: str, tags: list[str], dirty: list[str], migration_versions: list[str]
) -> list[str]:
    """Why `version` may not be tagged now ([] when it may)."""
    key = version_key(version)
    if key is None:
        return [f"release: VERSION must be X.Y.Z, e.g. 0.3.0, without a v (got {version!r})"]
    problems = []
    if dirty:
        problems.append(f"release: commit or stash first; the tree is not clean: {', '.join(dirty[:5])}")
    if f"v{version}" in tags:
        problems.append(f"release: tag v{version} exists already")
    released = [tag_key for tag in tags if tag.startswith("v") and (tag_key := version_key(tag[1:]))]
    if released and max(released) > key:
        problems.append(f"release: {version} is older than the tag v{'.'.join(map(str, max(released)))}")
    if not has_entries(changelog_entry(changelog, version)):
        problems.append(f"release: add the CHANGELOG.md entry '## [{version}]' with its '- ' lines")
    if has_entries(changelog_entry(changelog, "Unreleased")):
        problems.append(f"release: move the '## [Unreleased]' lines of CHANGELOG.md under '## [{version}]'")
    late = [v for v in migration_versions if (v_key := version_key(v)) is not None and v_key > key]
    if late:
        problems.append(f"release: copier.yml's _migrations name {', '.join(late)}, newer than {version}")
    return problems


def tag_message(version: str, entry: str) -> str:
    return f"minimal-go-service {version}\n\n{entry}\n"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True, timeout=60).stdout


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: make release VERSION=X.Y.Z", file=sys.stderr)
        return 2
    version = argv[0]
    repo = Path(_git(Path.cwd(), "rev-parse", "--show-toplevel").strip())
    changelog = (repo / "CHANGELOG.md").read_text(encoding="utf-8")
    config = yaml.safe_load((repo / "copier.yml").read_text(encoding="utf-8"))
    migration_versions = [str(step["version"]) for step in config.get("_migrations", []) if "version" in step]
    tags = _git(repo, "tag", "--list").split()
    dirty = [line[3:] for line in _git(repo, "status", "--porcelain", "--untracked-files=all").splitlines()]
    problems = release_problems(version, changelog, tags, dirty, migration_versions)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    entry = changelog_entry(changelog, version) or ""
    # verbatim: the entry's `### Added` lines are not comments to strip.
    _git(repo, "tag", "--annotate", "--cleanup=verbatim", f"v{version}", "--message", tag_message(version, entry))
    print(f"release: tagged v{version} at {_git(repo, 'rev-parse', '--short', 'HEAD').strip()}; "
          f"publish it with: git push origin v{version}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
