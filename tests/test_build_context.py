"""What the docs say reaches a service's Docker build context is what really does.

The context is read from Docker itself: a throwaway Dockerfile (`FROM scratch`,
`COPY . /`) exported with `--output type=local`, built with the service's own
.dockerignore and `--no-cache` (Docker 20.10's BuildKit answered a cached `COPY . .`
after .dockerignore changed: docs/security.md).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import ROOT, copier_generate, run

SLUG_DIR = ROOT / "{{cookiecutter.project_slug}}"
# Files a team's checkout could hold, planted into a generated service.
PLANTED = [
    "internal/config/settings.yaml",  # what the newcomer saw reach the context
    "internal/greeting/greeting.go",
    "cmd/tool/main.go",
    "pkg/api/api.go",
    "testdata/golden.json",
    "vendor/modules.txt",
    "vendor/example.com/greet/greet.go",
    "libs/greet/go.mod",  # a local module: the team admits its folder (the comment says how)
    "notes.txt",
    "docs/design.md",
    "tools/gen.go",  # a .go file below a folder the allowlist does not name
    "scripts/release-notes.sh",
    ".env",
    "internal/.env",
    "internal/deploy.key",
    ".git/x.go",
]

# The claim, in the words every description uses (README.md, docs/index.md,
# docs/security.md, the Dockerfile's comment above COPY . .): the top-level go.mod,
# go.sum and .go files (tests too), scripts/go-checks.sh, .golangci.yml, and the folders cmd/,
# internal/, pkg/, testdata/ and vendor/ whole; never secrets (the denylist), .git or editor files.
WHOLE_FOLDERS = ("cmd/", "internal/", "pkg/", "testdata/", "vendor/")
SECRET = re.compile(r"(^|/)(\.git|\.env(\..*)?|.*\.key|.*\.pem)(/|$)")


def claimed(path: str) -> bool:
    """Whether the docs say `path` reaches the build context."""
    if SECRET.search(path):
        return False
    top_level = "/" not in path
    return (
        (top_level and (path in {"go.mod", "go.sum"} or path.endswith(".go")))
        or path in {"scripts/go-checks.sh", ".golangci.yml"}
        or path.startswith(WHOLE_FOLDERS)
    )


def context_files(docker: str, service: Path, tmp_path: Path) -> set[str]:
    listing = tmp_path / "listing"
    listing.mkdir()
    (listing / "Dockerfile").write_text("FROM scratch\nCOPY . /\n")
    out = tmp_path / "context"
    run(
        [docker, "build", "--no-cache", "-f", str(listing / "Dockerfile"), "--output", f"type=local,dest={out}", "."],
        cwd=service, timeout=600, env={"DOCKER_BUILDKIT": "1"},
    )
    return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}


@pytest.mark.docker
@pytest.mark.parametrize("dockerignore", ["service's", "none"], ids=["dockerignore", "control-no-dockerignore"])
def test_the_build_context_is_what_the_docs_say(docker: str, tmp_path: Path, dockerignore: str) -> None:
    service = copier_generate(tmp_path / "service", {})
    for path in PLANTED:
        (service / path).parent.mkdir(parents=True, exist_ok=True)
        (service / path).write_text("planted\n")
    if dockerignore == "none":
        (service / ".dockerignore").unlink()
    files = context_files(docker, service, tmp_path)
    every = {p.relative_to(service).as_posix() for p in service.rglob("*") if p.is_file()}
    expected = {path for path in every if claimed(path)}
    if dockerignore == "none":
        # Control: without the allowlist, the planted files the claim leaves out do arrive.
        assert {"notes.txt", "tools/gen.go", ".env", "internal/.env"} <= files
        assert files != expected
        return
    assert files == expected, f"entered but not claimed: {sorted(files - expected)}; claimed but absent: {sorted(expected - files)}"
    assert "internal/config/settings.yaml" in files, "a folder the allowlist names comes in whole"


# Each description of the context, found by a phrase it starts from, must name every
# entry that really enters and claim no narrower rule.
DESCRIPTIONS = {
    "README.md": "`.dockerignore` |",
    "docs/index.md": "An allowlist `.dockerignore`",
    "docs/security.md": "`.dockerignore` is an allowlist",
    "{{cookiecutter.project_slug}}/Dockerfile": "# .dockerignore admits",
}
NAMED = ["go.mod", "go.sum", ".go", "scripts/go-checks.sh", ".golangci.yml", "cmd/", "internal/", "pkg/", "testdata/", "vendor/"]
STALE = ["only go.mod, go.sum and .go files", "only Go sources", "`*_test.go` goes again", "only go.mod, go.sum, .go files"]


@pytest.mark.parametrize("path", list(DESCRIPTIONS))
def test_every_description_names_the_same_entries(path: str) -> None:
    text = (ROOT / path).read_text()
    start = text.index(DESCRIPTIONS[path])
    end = text.index("\n" if path == "README.md" else "\n\n", start)  # a table row, or a paragraph
    description = " ".join(text[start:end].split())
    assert [name for name in NAMED if name not in description] == []
    assert [stale for stale in STALE if stale in " ".join(text.split())] == []


def test_the_dockerignore_admits_what_the_claim_names() -> None:
    """The allowlist's `!` lines are the claim's entries (the listing above proves their effect)."""
    lines = (SLUG_DIR / ".dockerignore").read_text().splitlines()
    admitted = sorted(line[1:] for line in lines if line.startswith("!"))
    assert admitted == sorted(["go.mod", "go.sum", "**/*.go", *WHOLE_FOLDERS, "scripts/go-checks.sh", ".golangci.yml"])
