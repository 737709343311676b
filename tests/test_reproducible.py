"""Reproducible builds: the same generated project gives byte-identical binaries.

Two copies of one generated project, in folders with different names, are built with
the project's own `make build` (its flags come from service_template.go_flags:
-trimpath -buildvcs=false) under a fixed SOURCE_DATE_EPOCH; the second build starts
from an empty Go build cache, so nothing is merely copied from the first. Controls
show the comparison can fail: without -trimpath the folder names leak into the
binaries and they differ; without -buildvcs=false a git checkout stamps its revision.
With Docker, the binary in the image is byte-identical to the local one.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

import service_template as st
from conftest import build_args, copier_generate, docker_build, need, run

pytestmark = pytest.mark.slow

SOURCE_DATE_EPOCH = "1700000000"
SLUG = "repro-service"
ANSWERS = {"project_name": "Repro Service", "app_kind": "http", "tzdata": "embedded", "runtime_base": "scratch"}
# No toolchain download, no module proxy: the build needs neither.
GO_ENV = {"GOTOOLCHAIN": "local", "GOPROXY": "off", "GOFLAGS": "", "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def copies(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One generated project, copied into two differently named folders."""
    need("go", "builds the generated project")
    base = tmp_path_factory.mktemp("repro")
    original = copier_generate(base / "generated" / SLUG, ANSWERS)
    first = base / "checkout-one" / SLUG
    second = base / "a-much-longer-folder-name" / "elsewhere"
    shutil.copytree(original, first)
    shutil.copytree(original, second)
    return first, second


def make_build(project: Path, *extra: str, **env: str) -> Path:
    binary = project / "bin" / SLUG
    binary.unlink(missing_ok=True)
    run(["make", "build", *extra], cwd=project, timeout=900, env={**GO_ENV, **env})
    return binary


def test_two_builds_are_byte_identical(copies: tuple[Path, Path], tmp_path: Path) -> None:
    first, second = copies
    one = make_build(first)
    two = make_build(second, GOCACHE=str(tmp_path / "empty-go-cache"))  # compiles everything afresh
    assert sha256(one) == sha256(two)
    for project in (first, second):
        assert str(project).encode() not in one.read_bytes(), "a build folder is named inside the binary"


def test_without_trimpath_the_folder_leaks_and_the_check_fails(copies: tuple[Path, Path]) -> None:
    """The control: the comparison above would catch a build that records its folder."""
    flags = st.go_flags(ANSWERS)
    assert "-trimpath" in flags
    untrimmed = f"GOFLAGS={flags.replace('-trimpath ', '')}"
    first, second = copies
    one, two = make_build(first, untrimmed), make_build(second, untrimmed)
    assert sha256(one) != sha256(two)
    assert str(first).encode() in one.read_bytes()


def test_buildvcs_false_keeps_git_state_out(copies: tuple[Path, Path]) -> None:
    """In a git checkout, Go would stamp revision, time and dirty flag; the flags stop it."""
    git = need("git", "makes the project a checkout")
    first, _ = copies
    project = first.parent / "as-checkout"
    shutil.copytree(first, project)
    try:
        identity = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
        run([git, "init", "-q"], cwd=project, timeout=60)
        run([git, *identity, "add", "-A"], cwd=project, timeout=60)
        run([git, *identity, "commit", "-q", "-m", "x"], cwd=project, timeout=60)
        plain = make_build(project, "VERSION=dev", "COMMIT=unknown")
        info = run(["go", "version", "-m", str(plain)], cwd=project, timeout=60, env=GO_ENV).stdout
        assert "vcs." not in info, info
        assert sha256(plain) == sha256(make_build(first))

        flags = st.go_flags(ANSWERS).replace("-buildvcs=false", "")
        stamped = make_build(project, "VERSION=dev", "COMMIT=unknown", f"GOFLAGS={flags}")
        info = run(["go", "version", "-m", str(stamped)], cwd=project, timeout=60, env=GO_ENV).stdout
        assert "vcs.revision" in info, "the control build should have stamped the revision"
    finally:
        shutil.rmtree(project)


@pytest.mark.docker
def test_image_binary_is_the_local_binary(
    copies: tuple[Path, Path], docker: str, standin_images: dict[str, str]
) -> None:
    """The Dockerfile and the Makefile build the same bytes (same Go release and flags)."""
    first, _ = copies
    local = make_build(first)
    go_release = run(["go", "env", "GOVERSION"], cwd=first, timeout=60, env=GO_ENV).stdout.strip()
    image_go = run(
        [docker, "run", "--rm", "--network", "host", standin_images["go"], "go", "env", "GOVERSION"], cwd=first, timeout=300
    ).stdout.strip()
    if image_go != go_release:
        pytest.skip(f"the builder image has {image_go}, this machine {go_release}: the bytes cannot match")

    tag = f"repro-{uuid.uuid4().hex[:12]}:test"
    container = f"repro-{uuid.uuid4().hex[:12]}"
    try:
        stamp = {"VERSION": "dev", "COMMIT": "unknown"}
        docker_build(docker, first, {**stamp, **build_args(standin_images, "scratch")}, "-t", tag)
        run([docker, "create", "--name", container, tag], cwd=first, timeout=120)
        extracted = first.parent / "from-image"
        run([docker, "cp", f"{container}:/usr/local/bin/{SLUG}", str(extracted)], cwd=first, timeout=120)
        assert sha256(extracted) == sha256(local)
    finally:
        subprocess.run([docker, "rm", "-f", container], capture_output=True, timeout=120, check=False)
        subprocess.run([docker, "rmi", "-f", tag], capture_output=True, timeout=120, check=False)
