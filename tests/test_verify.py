"""The post-generation verification (hooks/verify.py): its pure pieces, its modes,
what it does when tools are missing or a step fails, the copier task's gating, and
its cleanup of Docker containers and images, also when interrupted."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

import verify
from conftest import ROOT, STANDIN_IMAGES, copier_generate, need, run
from verify import Result, StepFailed, closing_line, elf_is_static, exit_code, summary

VERIFY_PY = ROOT / "hooks" / "verify.py"
# Variables of the caller's environment that would change what verify.py does.
VERIFY_VARS = ("VERIFY", "GO_IMAGE", "RUNTIME_IMAGE", "DOCKER", "VERIFY_DOCKER_NETWORK")


# -- pure pieces ----------------------------------------------------------------


def test_elf_is_static_tells_static_from_dynamic_binaries() -> None:
    dynamic = Path(os.path.realpath("/bin/ls"))
    assert not elf_is_static(dynamic.read_bytes()[:4096]), "/bin/ls asks for ld.so: dynamic"
    busybox = Path(os.path.realpath(need("busybox", "a static binary to compare (apt-get install busybox-static)")))
    assert elf_is_static(busybox.read_bytes()[:4096]), "busybox-static needs no loader"
    with pytest.raises(StepFailed, match="not an ELF"):
        elf_is_static(b"#!/bin/sh\necho hi\n")


def test_summary_lists_every_step_and_counts_them() -> None:
    results = [Result("gofmt", "ok", 0.04), Result("go vet", "FAIL", 1.25, "boom"), Result("docker build", "skip", 0.0)]
    table = summary(results).splitlines()
    assert table[0].split() == ["step", "status", "time"]
    assert re.fullmatch(r"gofmt\s+ok\s+0\.0s", table[1])
    assert re.fullmatch(r"go vet\s+FAIL\s+1\.2s", table[2])
    assert re.fullmatch(r"docker build\s+skip\s+0\.0s", table[3])
    assert table[-1] == "1 ok, 1 failed, 1 skipped"


@pytest.mark.parametrize(
    ("statuses", "mode", "code"),
    [
        (["ok", "ok"], "on", 0),
        (["ok", "ok"], "strict", 0),
        (["ok", "skip"], "on", 0),
        (["ok", "skip"], "strict", 1),
        (["ok", "FAIL"], "on", 0),
        (["ok", "FAIL"], "strict", 1),
        ([], "strict", 0),
    ],
)
def test_exit_code_fails_only_in_strict_mode(statuses: list[str], mode: str, code: int) -> None:
    results = [Result(f"step {i}", status, 0.0) for i, status in enumerate(statuses)]
    assert exit_code(results, mode) == code


def test_closing_line_says_what_strict_mode_does_to_the_project() -> None:
    failed = [Result("go vet", "FAIL", 0.0)]
    assert "the project is kept" in closing_line(failed, "on")
    assert "--no-cleanup" in closing_line(failed, "strict")
    assert closing_line([Result("go vet", "ok", 0.0)], "strict") == "verify: everything checked passed"


# -- the script, run as the engines run it -----------------------------------------


def project_answers(project: Path) -> dict[str, Any]:
    """The answers copier recorded, as the task hands them over."""
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return {key: value for key, value in recorded.items() if not key.startswith("_")}


def run_verify(project: Path, env: dict[str, str], answers: dict[str, Any] | None = None,
               timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    """verify.py on a project, with env replacing the caller's verification settings."""
    clean = {k: v for k, v in os.environ.items() if k not in VERIFY_VARS}
    argv = [sys.executable, str(VERIFY_PY), "--project", str(project),
            "--answers-json", json.dumps(answers or project_answers(project))]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env={**clean, **env})


def step_lines(output: str) -> dict[str, str]:
    """{step name: status} from the one-line reports."""
    found = re.findall(r"^verify: \[\s*(ok|FAIL|skip)\s*\] (.+?)\s{2,}\s*[\d.]+s", output, re.M)
    return {name.strip(): status for status, name in found}


@pytest.fixture
def service(tmp_path: Path) -> Path:
    return copier_generate(tmp_path / "service", {"project_name": "Verify Probe"})


def test_verify_off_prints_the_skip_line_and_does_nothing(service: Path) -> None:
    proc = run_verify(service, {"VERIFY": "off"})
    assert proc.returncode == 0
    assert proc.stdout.strip() == "verify: skipped (VERIFY=off); run `make verify` in the project to check it later"


def test_an_unknown_verify_mode_is_refused(service: Path) -> None:
    proc = run_verify(service, {"VERIFY": "sometimes"})
    assert proc.returncode == 2
    assert "VERIFY must be on, off or strict" in proc.stderr


def test_missing_go_and_docker_are_skipped_with_install_hints(service: Path, tmp_path: Path) -> None:
    empty_path = tmp_path / "empty-bin"
    empty_path.mkdir()
    env = {"PATH": str(empty_path), "DOCKER": "docker"}

    proc = run_verify(service, {**env, "VERIFY": "on"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    steps = step_lines(proc.stdout)
    assert steps == {name: "skip" for name in
                     ("gofmt", "go vet", "go test", "static go build", "docker build", "image size",
                      "non-root user", "smoke run")}, proc.stdout
    assert "Go not found on PATH: install Go from https://go.dev/dl/" in proc.stdout
    assert "install Docker (https://docs.docker.com/engine/install/)" in proc.stdout
    assert "0 ok, 0 failed, 8 skipped" in proc.stdout

    strict = run_verify(service, {**env, "VERIFY": "strict"})
    assert strict.returncode == 1, strict.stdout
    assert "VERIFY=strict: exit 1" in strict.stdout


def test_a_failing_step_keeps_the_project_and_fails_only_in_strict_mode(service: Path) -> None:
    need("go", "runs the go steps")
    main_go = service / "main.go"
    main_go.write_text(main_go.read_text() + "\nfunc broken( {\n")
    before = sorted(p.relative_to(service) for p in service.rglob("*"))
    env = {"DOCKER": "/nonexistent/docker"}  # only the Go steps run

    proc = run_verify(service, {**env, "VERIFY": "on"}, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    steps = step_lines(proc.stdout)
    assert steps["go vet"] == steps["go test"] == steps["static go build"] == "FAIL", proc.stdout
    assert steps["docker build"] == "skip"
    assert "the project is kept" in proc.stdout
    assert sorted(p.relative_to(service) for p in service.rglob("*")) == before, "verification changed the project"

    strict = run_verify(service, {**env, "VERIFY": "strict"}, timeout=600)
    assert strict.returncode == 1
    assert main_go.exists()


def failing_go(tmp_path: Path) -> str:
    """A PATH whose `go` always fails, so verification fails fast; the rest of PATH stays."""
    fake = tmp_path / "fake-go"
    fake.mkdir(exist_ok=True)
    go = fake / "go"
    go.write_text("#!/bin/sh\necho 'fake go: broken on purpose' >&2\nexit 1\n")
    go.chmod(0o755)
    return f"{fake}{os.pathsep}{os.environ['PATH']}"


def test_copier_copy_keeps_the_project_when_verification_fails(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    from plumbum import local

    dst = tmp_path / "service"
    with local.env(PATH=failing_go(tmp_path), DOCKER="/nonexistent/docker"):
        copier_generate(dst, {"project_name": "Kept"}, verify="on")
    out = capfd.readouterr().out
    assert "verify: [FAIL] go vet" in out, out
    assert (dst / "main.go").exists() and (dst / "Dockerfile").exists(), "a failed verification removed the project"


def test_strict_copier_copy_fails_and_copier_removes_the_new_project(tmp_path: Path) -> None:
    """What docs/verification.md warns about: strict mode is an error, and copier cleans up
    a new destination on errors (run copier with --no-cleanup to keep it)."""
    from plumbum import local

    dst = tmp_path / "service"
    with local.env(PATH=failing_go(tmp_path), DOCKER="/nonexistent/docker"), pytest.raises(Exception) as raised:
        copier_generate(dst, {"project_name": "Strict"}, verify="strict")
    assert isinstance(raised.value, subprocess.CalledProcessError) or "exit" in str(raised.value).lower()
    assert not dst.exists()


def template_checkout(tmp_path: Path) -> Path:
    """This template's working tree as its own git repo, tagged v0.1.0 then v0.2.0."""
    src = tmp_path / "template"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "site", ".pytest_cache", "__pycache__", ".hypothesis", "*.egg-info"))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
    run(["git", "init", "-q", "-b", "main"], cwd=src)
    run([*git, "add", "-A"], cwd=src)
    run([*git, "commit", "-qm", "v0.1.0"], cwd=src)
    run([*git, "tag", "v0.1.0"], cwd=src)
    (src / "docs").mkdir(exist_ok=True)
    (src / "docs" / "changelog-probe.md").write_text("a change between releases\n")
    run([*git, "add", "-A"], cwd=src)
    run([*git, "commit", "-qm", "v0.2.0"], cwd=src)
    run([*git, "tag", "v0.2.0"], cwd=src)
    return src


def test_the_verify_task_runs_on_copy_and_never_on_update(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    import copier
    from plumbum import local

    src = template_checkout(tmp_path)
    dst = tmp_path / "service"
    with local.env(PATH=failing_go(tmp_path), DOCKER="/nonexistent/docker", VERIFY="on"):
        copier.run_copy(str(src), str(dst), data={"project_name": "Gated"}, defaults=True, unsafe=True,
                        vcs_ref="v0.1.0", quiet=True)
    assert "verify: checking" in capfd.readouterr().out, "the verification did not run after copy"

    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
    run(["git", "init", "-q", "-b", "main"], cwd=dst)
    run([*git, "add", "-A"], cwd=dst)
    run([*git, "commit", "-qm", "generated"], cwd=dst)
    # Strict and a broken `go`: had the task run during the update, the update would fail.
    with local.env(PATH=failing_go(tmp_path), DOCKER="/nonexistent/docker", VERIFY="strict"):
        copier.run_update(str(dst), defaults=True, unsafe=True, overwrite=True, quiet=True)
    assert "verify:" not in capfd.readouterr().out, "the verification ran during `copier update`"
    assert "_commit: v0.2.0" in (dst / ".copier-answers.yml").read_text()


# -- Docker: cleanup, interruption, the README's strict run ------------------------------


def verify_leftovers(docker: str, slug: str) -> list[str]:
    """Containers and images named after this slug's verification runs."""
    containers = run([docker, "ps", "-a", "--format", "{{.Names}}"], cwd=ROOT).stdout.split()
    images = run([docker, "images", "--format", "{{.Repository}}:{{.Tag}}"], cwd=ROOT).stdout.split()
    return [name for name in containers + images if name.startswith(f"verify-{slug}")]


def docker_env(docker: str, images: dict[str, str], runtime_base: str = "scratch") -> dict[str, str]:
    env = {"DOCKER": docker, "VERIFY_DOCKER_NETWORK": "host", "GO_IMAGE": images["go"]}
    if runtime_base in images:
        env["RUNTIME_IMAGE"] = images[runtime_base]
    return env


@pytest.mark.docker
def test_a_full_run_passes_and_leaves_no_containers_or_images(
    tmp_path: Path, docker: str, standin_images: dict[str, str]
) -> None:
    slug = f"cleanup-{uuid.uuid4().hex[:6]}"
    answers = {"project_name": slug, "upx": True, "upx_level": "fast"}
    project = copier_generate(tmp_path / "service", answers)

    # No VERIFY_DOCKER_NETWORK: verify.py picks the host network itself on engines without a bridge.
    env = {**docker_env(docker, standin_images), "VERIFY": "strict"}
    del env["VERIFY_DOCKER_NETWORK"]
    proc = run_verify(project, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert set(step_lines(proc.stdout).values()) == {"ok"}, proc.stdout
    assert "upx packed binary" in step_lines(proc.stdout)
    assert verify_leftovers(docker, slug) == []
    assert not (project / "bin").exists(), "the verification build left files in the project"


@pytest.mark.docker
def test_sigterm_mid_docker_build_still_cleans_up(tmp_path: Path, docker: str, standin_images: dict[str, str]) -> None:
    # upx --best takes a minute here: the build is surely still running when the signal comes.
    slug = f"interrupt-{uuid.uuid4().hex[:6]}"
    project = copier_generate(tmp_path / "service", {"project_name": slug, "upx": True, "upx_level": "best"})
    clean = {k: v for k, v in os.environ.items() if k not in VERIFY_VARS}
    env = {**clean, **docker_env(docker, standin_images), "VERIFY": "on"}
    argv = [sys.executable, "-u", str(VERIFY_PY), "--project", str(project),
            "--answers-json", json.dumps(project_answers(project))]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if "static go build" in line:
                break
        time.sleep(3)  # into the docker build
        assert proc.poll() is None, "".join(lines)
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    output = "".join(lines) + rest
    assert proc.returncode == 130, output
    assert "interrupted; the containers and images it made are removed" in output
    assert verify_leftovers(docker, slug) == []


@pytest.mark.docker
def test_strict_copier_copy_with_standin_images_passes_end_to_end(
    tmp_path: Path, docker: str, standin_images: dict[str, str], capfd: pytest.CaptureFixture[str]
) -> None:
    """The README's first commands, offline: `GO_IMAGE=... VERIFY=strict make demo`."""
    import copier
    from plumbum import local

    dst = tmp_path / "demo"
    slug = f"demo-{uuid.uuid4().hex[:6]}"  # the defaults, but a name of its own: parallel runs never collide
    with local.env(VERIFY="strict", **docker_env(docker, standin_images)):
        copier.run_copy(str(ROOT), str(dst), data={"project_name": slug}, defaults=True, unsafe=True,
                        vcs_ref="HEAD", quiet=True)
    out = capfd.readouterr().out
    assert "8 ok, 0 failed, 0 skipped" in out, out
    assert "verify: [ ok ] smoke run" in out
    assert verify_leftovers(docker, slug) == []
    assert (dst / "main.go").exists()


def test_standin_tags_in_the_script_match_the_fixtures() -> None:
    script = (ROOT / "scripts" / "standin-images.sh").read_text()
    for tag in STANDIN_IMAGES.values():
        assert f"={tag}\n" in script, f"scripts/standin-images.sh does not build {tag}"


def test_the_static_build_uses_the_dockerfiles_flags(service: Path) -> None:
    answers = project_answers(service)
    flags = verify.build_flags(answers, version="${VERSION}", commit="${COMMIT}")
    dockerfile = (service / "Dockerfile").read_text()
    assert " ".join(flags[:-1]) in dockerfile
    assert flags[-1].startswith("-s -w -X main.version=${VERSION}")
