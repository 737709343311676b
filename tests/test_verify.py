"""The verification: the service's own scripts/verify.sh (what `make verify`, its CI
and the creation hook run) and hooks/verify.py, the creation hook around it.

Every check here runs the generated service's own script or make target. Controls:
each protection is shown failing on a service that lacks what it checks (a broken
HEALTHCHECK, an image that runs as root, a dynamic binary, a client without BuildKit).
"""

from __future__ import annotations

import http.server
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from conftest import ROOT, STANDIN_IMAGES, build_args, copier_generate, default_signal_handling, need, run
from verify import closing_line, exit_code

VERIFY_PY = ROOT / "hooks" / "verify.py"
SCRIPT = Path("scripts", "verify.sh")
# Variables of the caller's environment that would change what the verification does.
VERIFY_VARS = ("VERIFY", "GO_IMAGE", "RUNTIME_IMAGE", "DOCKER", "VERIFY_DOCKER_NETWORK", "DOCKER_BUILD_ARGS")
# What the script needs from a machine besides Go, make and Docker.
BASIC_TOOLS = ("bash", "env", "mktemp", "dirname", "rm", "cat", "od", "awk", "sed", "grep", "tail", "head",
               "date", "wc", "tr", "sleep", "seq", "uname", "sh")
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]


# -- the hook's meaning of the script's exit status ------------------------------------


@pytest.mark.parametrize(
    ("status", "mode", "code"),
    [(0, "on", 0), (0, "strict", 0), (1, "on", 0), (1, "strict", 1), (130, "on", 130), (130, "strict", 130)],
)
def test_only_strict_mode_fails_the_generation(status: int, mode: str, code: int) -> None:
    assert exit_code(status, mode) == code


def test_closing_line_says_what_happens_to_the_project() -> None:
    assert closing_line(0, "strict") == ""
    assert closing_line(130, "on") == "", "the script already said it was interrupted"
    assert "the project is kept" in closing_line(1, "on")
    assert "--no-cleanup" in closing_line(1, "strict")


# -- the script, as the engines and `make verify` run it --------------------------------


def clean_env(**env: str) -> dict[str, str]:
    """The caller's environment without its verification settings, plus `env`."""
    return {**{k: v for k, v in os.environ.items() if k not in VERIFY_VARS}, **env}


def run_hook(project: Path, env: dict[str, str], timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    """hooks/verify.py on a project, as the copier task runs it."""
    return subprocess.run([sys.executable, str(VERIFY_PY), "--project", str(project)], capture_output=True,
                          text=True, timeout=timeout, env=clean_env(**env))


def make_verify(project: Path, env: dict[str, str], *args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    """The service's own `make verify`."""
    return subprocess.run(["make", "verify", *args], cwd=project, capture_output=True, text=True,
                          timeout=timeout, env=clean_env(**env))


def always_false(project: Path, function: str) -> None:
    """A control: the project's verify.sh with `function` returning false at once."""
    script = project / SCRIPT
    text, count = re.subn(rf"^{function}\(\) \{{", f"{function}() {{ return 1;", script.read_text(), flags=re.M)
    assert count == 1, f"the control no longer applies to verify.sh: no {function}()"
    script.write_text(text)


def step_lines(output: str) -> dict[str, str]:
    """{step name: status} from the one-line reports."""
    found = re.findall(r"^verify: \[\s*(ok|FAIL|skip)\s*\] (\S.*?)\s+[\d.]+s(?:  |$)", output, re.M)
    return {name: status for status, name in found}


def bare_path(tmp_path: Path, *extra: str) -> str:
    """A PATH with the basic tools the script needs and `extra`, and nothing else (no go, make, docker)."""
    folder = tmp_path / "bare-bin"
    folder.mkdir(exist_ok=True)
    for tool in (*BASIC_TOOLS, *extra):
        found = shutil.which(tool)
        assert found, f"{tool} is not on this machine"
        link = folder / tool
        if not link.exists():
            link.symlink_to(found)
    return str(folder)


@pytest.fixture
def service(tmp_path: Path) -> Path:
    return copier_generate(tmp_path / "service", {"project_name": "Verify Probe"})


def test_every_step_is_printed_once(tmp_path: Path, service: Path) -> None:
    proc = run_hook(service, {"PATH": bare_path(tmp_path), "VERIFY": "on"})
    names = re.findall(r"^verify: \[[^]]*\] (\S.*?)\s+[\d.]+s", proc.stdout, re.M)
    assert names and len(names) == len(set(names)), proc.stdout


def test_verify_off_prints_the_skip_line_and_does_nothing(service: Path) -> None:
    proc = run_hook(service, {"VERIFY": "off"})
    assert proc.returncode == 0
    assert proc.stdout.strip() == "verify: skipped (VERIFY=off); run `make verify` in the project to check it later"


def test_an_unknown_verify_mode_is_refused(service: Path) -> None:
    proc = run_hook(service, {"VERIFY": "sometimes"})
    assert proc.returncode == 2
    assert "VERIFY must be on, off or strict" in proc.stderr


def test_missing_go_and_docker_are_skipped_with_install_hints(service: Path, tmp_path: Path) -> None:
    env = {"PATH": bare_path(tmp_path), "DOCKER": "docker"}
    proc = run_hook(service, {**env, "VERIFY": "on"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert step_lines(proc.stdout) == {name: "skip" for name in (
        "go checks", "lint", "static build", "docker build", "image size", "non-root user", "static binary",
        "smoke run")}, proc.stdout
    assert "install Go from https://go.dev/dl/" in proc.stdout
    assert "install Docker (https://docs.docker.com/engine/install/)" in proc.stdout
    assert "0 ok, 0 failed, 8 skipped: NOT verified: nothing could be checked here" in proc.stdout
    assert "the project is kept" in proc.stdout, "VERIFY=on keeps the project, and says it is not verified"

    strict = run_hook(service, {**env, "VERIFY": "strict"})
    assert strict.returncode == 1, strict.stdout
    assert "NOT verified (VERIFY=strict)" in strict.stdout
    assert "VERIFY=strict: exit 1" in strict.stdout


def test_without_docker_the_host_runs_the_makefile_checks_with_the_image_settings(service: Path, tmp_path: Path) -> None:
    go = need("go", "runs the host checks")
    path = f"{bare_path(tmp_path, 'make', 'git')}{os.pathsep}{Path(go).parent}"
    proc = make_verify(service, {"PATH": path, "DOCKER": "/nonexistent/docker", "VERIFY": "on"}, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    steps = step_lines(proc.stdout)
    assert [steps[name] for name in ("go checks", "lint", "static build")] == ["ok"] * 3, proc.stdout
    assert steps["docker build"] == "skip"
    assert "no dynamic loader" in proc.stdout
    # The same GOFLAGS and CGO_ENABLED as the Dockerfile, so vet, test and build share one cache.
    info = run(["go", "version", "-m", "bin/verify-probe"], cwd=service).stdout
    assert re.search(r"build\s+CGO_ENABLED=0", info) and re.search(r"build\s+-trimpath=true", info), info


def test_a_failing_step_keeps_the_project_and_fails_only_in_strict_mode(service: Path) -> None:
    need("go", "runs the go steps")
    need("make", "runs the Makefile's checks")
    main_go = service / "main.go"
    main_go.write_text(main_go.read_text() + "\nfunc broken( {\n")
    before = sorted(p.relative_to(service) for p in service.rglob("*"))
    env = {"DOCKER": "/nonexistent/docker"}  # only the host's Go steps run

    proc = run_hook(service, {**env, "VERIFY": "on"}, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    steps = step_lines(proc.stdout)
    assert steps["go checks"] == steps["static build"] == "FAIL", proc.stdout
    assert "syntax error" in proc.stdout, "the failing command's own output is shown"
    assert steps["docker build"] == "skip"
    assert "the project is kept" in proc.stdout
    assert sorted(p.relative_to(service) for p in service.rglob("*")) == before, "verification changed the project"

    strict = run_hook(service, {**env, "VERIFY": "strict"}, timeout=600)
    assert strict.returncode == 1
    assert main_go.exists()


def test_the_static_check_tells_static_from_dynamic_binaries(service: Path, tmp_path: Path) -> None:
    """The script's own ELF check (it needs no `file` or `readelf`), against known binaries."""
    script = (service / SCRIPT).read_text()
    function = re.search(r"^elf_is_static\(\) \{.*?^\}$", script, re.M | re.S)
    assert function, "scripts/verify.sh has no elf_is_static"
    text = tmp_path / "script.txt"
    text.write_text("#!/bin/sh\necho hi\n")
    busybox = need("busybox", "a static binary to compare (apt-get install busybox-static)")

    def check(path: str) -> int:
        return subprocess.run(["bash", "-c", f'{function.group(0)}\nelf_is_static "$1"', "check", path],
                              capture_output=True, text=True).returncode

    assert check(os.path.realpath(busybox)) == 0, "busybox-static needs no loader"
    assert check(os.path.realpath("/bin/ls")) == 1, "the control: /bin/ls asks for ld.so"
    assert check(str(text)) == 2, "not an ELF file"


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

    need("make", "runs the Makefile's checks")
    dst = tmp_path / "service"
    with local.env(PATH=failing_go(tmp_path), DOCKER="/nonexistent/docker"):
        copier_generate(dst, {"project_name": "Kept"}, verify="on")
    out = capfd.readouterr().out
    assert "verify: [FAIL] go checks" in out, out
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


# -- Docker: the proof itself, its controls, cleanup and interruption -------------------------


def docker_objects(docker: str, slug: str) -> list[str]:
    """What the engine holds of this service (its slug is unique to the test): containers
    named after it or made from its images, images tagged with it, and dangling images
    whose build history names it (the binary's path in `go build -o`). Other sessions
    share the engine, so only this service's objects are counted."""
    found = []
    for line in run([docker, "ps", "-a", "--format", "{{.Names}} {{.Image}}"], cwd=ROOT).stdout.splitlines():
        if slug in line:
            found.append(f"container {line}")
    for line in run([docker, "images", "--format", "{{.Repository}}:{{.Tag}}"], cwd=ROOT).stdout.split():
        if slug in line:
            found.append(f"image {line}")
    dangling = run([docker, "images", "-q", "--no-trunc", "--filter", "dangling=true"], cwd=ROOT).stdout.split()
    for image in dict.fromkeys(dangling):
        history = subprocess.run([docker, "history", "--no-trunc", "--format", "{{.CreatedBy}}", image],
                                 capture_output=True, text=True, timeout=60).stdout
        if f"/usr/local/bin/{slug} " in history:
            found.append(f"dangling image {image}")
    return found


def verify_leftovers(docker: str, slug: str, before: list[str] | None = None) -> list[str]:
    """What a verification run left behind: this service's objects now, less those before it."""
    return [name for name in docker_objects(docker, slug) if name not in (before or [])]


def docker_env(docker: str, images: dict[str, str], runtime_base: str = "scratch") -> dict[str, str]:
    env = {"DOCKER": docker, "VERIFY_DOCKER_NETWORK": "host", "GO_IMAGE": images["go"]}
    if runtime_base in images:
        env["RUNTIME_IMAGE"] = images[runtime_base]
    return env


def committed(project: Path) -> Path:
    """The service as a team has it: a git repository with one commit."""
    run(["git", "init", "-q", "-b", "main"], cwd=project)
    run([*GIT, "add", "-A"], cwd=project)
    run([*GIT, "commit", "-qm", "generated"], cwd=project)
    return project


def path_without_go(tmp_path: Path) -> str:
    """PATH with no Go toolchain: verification with Docker must not need one."""
    need("make", "runs `make verify`")
    return f"{bare_path(tmp_path, 'make', 'git')}"


@pytest.mark.docker
def test_a_full_run_needs_no_go_and_leaves_no_containers_or_images(
    tmp_path: Path, docker: str, standin_images: dict[str, str]
) -> None:
    slug = f"cleanup-{uuid.uuid4().hex[:6]}"
    project = committed(copier_generate(tmp_path / "service", {"project_name": slug, "upx": True, "upx_level": "fast"}))

    # No VERIFY_DOCKER_NETWORK: the script picks the host network itself on engines without a bridge.
    env = {**docker_env(docker, standin_images), "VERIFY": "strict", "PATH": path_without_go(tmp_path)}
    del env["VERIFY_DOCKER_NETWORK"]
    env["PATH"] += os.pathsep + str(Path(docker).parent)
    assert shutil.which("go", path=env["PATH"]) is None, "this run must have no Go"
    before = docker_objects(docker, slug)
    proc = make_verify(project, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert step_lines(proc.stdout) == {name: "ok" for name in (
        "docker build", "image size", "non-root user", "static binary", "smoke run", "upx", "go checks", "lint")}, proc.stdout
    assert verify_leftovers(docker, slug, before) == []
    assert run(["git", "status", "--porcelain"], cwd=project).stdout == "", "the verification changed the project"


# A template update's kind of change, made to the Dockerfile of a committed service.
BROKEN_UPDATES = {
    "healthcheck-broken": (r'CMD \["(/usr/local/bin/[a-z0-9-]+)", "-healthcheck"\]', r'CMD ["\1", "-health"]',
                           "smoke run", "cannot run in the image"),
    "runs-as-root": (r"^USER .*\n", "", "non-root user", "the image runs as root (no USER)"),
}


@pytest.mark.docker
@pytest.mark.parametrize("change", [*BROKEN_UPDATES, "unbroken-control"])
def test_make_verify_fails_a_template_update_that_breaks_the_image(
    change: str, tmp_path: Path, docker: str, standin_images: dict[str, str]
) -> None:
    slug = f"update-{uuid.uuid4().hex[:6]}"
    project = committed(copier_generate(tmp_path / "service", {"project_name": slug}))
    dockerfile = project / "Dockerfile"
    if change in BROKEN_UPDATES:
        pattern, replacement, step, message = BROKEN_UPDATES[change]
        text, count = re.subn(pattern, replacement, dockerfile.read_text(), flags=re.M)
        assert count == 1, f"the {change} change no longer applies to the Dockerfile"
        dockerfile.write_text(text)
    else:  # a harmless change: verification passes
        dockerfile.write_text(dockerfile.read_text() + "\n# reviewed\n")
    run([*GIT, "commit", "-qam", f"template update: {change}"], cwd=project)

    before = docker_objects(docker, slug)
    proc = make_verify(project, docker_env(docker, standin_images))
    if change in BROKEN_UPDATES:
        assert proc.returncode != 0, proc.stdout
        assert step_lines(proc.stdout)[step] == "FAIL", proc.stdout
        assert message in proc.stdout
        assert "NOT verified" in proc.stdout
    else:
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert set(step_lines(proc.stdout).values()) == {"ok"}, proc.stdout
    assert verify_leftovers(docker, slug, before) == [], "a failed run leaves nothing either"


@pytest.mark.docker
def test_a_client_without_buildkit_gets_one_line_naming_the_fix(
    tmp_path: Path, docker: str, standin_images: dict[str, str]
) -> None:
    """A docker client whose BuildKit needs the missing buildx plugin (Docker 23+ without
    docker-buildx-plugin) fails `docker build` with this message; every other call works."""
    fake = tmp_path / "docker-without-buildx"
    fake.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = build ]; then\n'
        "  echo 'ERROR: BuildKit is enabled but the buildx component is missing or broken.' >&2\n"
        "  echo '       Install the buildx component to build images with BuildKit:' >&2\n"
        "  echo '       https://docs.docker.com/go/buildx/' >&2\n"
        "  exit 1\n"
        "fi\n"
        f'exec {docker} "$@"\n'
    )
    fake.chmod(0o755)
    project = committed(copier_generate(tmp_path / "service", {}))
    proc = make_verify(project, {**docker_env(docker, standin_images), "DOCKER": str(fake)})
    assert proc.returncode != 0
    wanted = ("BuildKit is enabled but the buildx component is missing: install the buildx plugin "
              "(docker-buildx-plugin), or set DOCKER to a client that has one")
    failures = [line for line in proc.stdout.splitlines() if line.startswith("verify: [FAIL]")]
    assert failures and all(line.endswith(wanted) for line in failures), proc.stdout
    assert "docs.docker.com/go/buildx" not in proc.stdout, "one line, not the client's whole message"


@pytest.mark.docker
@pytest.mark.parametrize("how", ["SIGTERM-to-the-hook", "Ctrl-C-to-the-script"])
def test_an_interrupted_run_still_cleans_up(
    how: str, tmp_path: Path, docker: str, standin_images: dict[str, str]
) -> None:
    # upx --best takes a minute here: the build is surely still running when the signal comes.
    slug = f"interrupt-{uuid.uuid4().hex[:6]}"
    project = committed(copier_generate(tmp_path / "service", {"project_name": slug, "upx": True, "upx_level": "best"}))
    env = clean_env(**docker_env(docker, standin_images), VERIFY="on")
    before = docker_objects(docker, slug)
    if how == "SIGTERM-to-the-hook":
        argv, sig = [sys.executable, "-u", str(VERIFY_PY), "--project", str(project)], signal.SIGTERM
    else:  # the terminal's Ctrl-C: SIGINT to the whole foreground process group
        argv, sig = ["bash", str(SCRIPT)], signal.SIGINT
    proc = subprocess.Popen(argv, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            start_new_session=True, preexec_fn=default_signal_handling)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert "verify: checking" in first, first
        time.sleep(5)  # into the docker build
        assert proc.poll() is None, first
        if sig == signal.SIGTERM:
            proc.send_signal(sig)
        else:
            os.killpg(proc.pid, sig)
        rest, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    output = first + rest
    assert proc.returncode == 130, output
    assert "interrupted; the containers and images it made are removed" in output
    assert verify_leftovers(docker, slug, before) == []


@pytest.mark.docker
def test_the_leftover_count_sees_an_untagged_checks_stage_image(
    tmp_path: Path, docker: str, standin_images: dict[str, str]
) -> None:
    """The control for the counts above: the checks stage built without verification's
    export (`docker build --target checks`, no tag, no --output), as verification once
    built its test stage, leaves a dangling image, and the count finds it."""
    slug = f"count-{uuid.uuid4().hex[:6]}"
    project = copier_generate(tmp_path / "service", {"project_name": slug})
    before = docker_objects(docker, slug)
    proc = subprocess.run([docker, "build", "--network", "host", "--build-arg", f"GO_IMAGE={standin_images['go']}",
                           "--target", "checks", "-q", "."], cwd=project, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "DOCKER_BUILDKIT": "1"})
    assert proc.returncode == 0, proc.stderr
    image = proc.stdout.strip()
    try:
        left = verify_leftovers(docker, slug, before)
        assert left == [f"dangling image {image}"], (left, image)
    finally:
        subprocess.run([docker, "image", "rm", "-f", image], capture_output=True, timeout=120)
    assert verify_leftovers(docker, slug, before) == []


# A package with a test that always fails: if verification says "verified", its tests never ran.
FAILING_PACKAGE = {
    "internal/alwaysfails/alwaysfails.go": "package alwaysfails\n",
    "internal/alwaysfails/alwaysfails_test.go": (
        'package alwaysfails\n\nimport "testing"\n\n'
        'func TestAlwaysFails(t *testing.T) { t.Fatal("this test ran, and fails on purpose") }\n'),
}


@pytest.mark.docker
@pytest.mark.parametrize("case", ["tests-kept-out-by-dockerignore", "control-tests-in-the-context", "control-normal-service"])
def test_verification_proves_every_package_with_tests_was_tested(
    case: str, tmp_path: Path, docker: str, standin_images: dict[str, str]
) -> None:
    """An update conflict resolved by keeping the old `**/*_test.go` line in .dockerignore:
    the checks stage then sees no tests, and go test passes on nothing. Verification compares
    the packages it tested with the repository's and fails, naming them. Controls: the same
    failing test in the build context fails as a test; the normal service passes."""
    slug = f"tested-{uuid.uuid4().hex[:6]}"
    project = copier_generate(tmp_path / "service", {"project_name": slug})
    if case != "control-normal-service":
        for name, text in FAILING_PACKAGE.items():
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            (project / name).write_text(text)
    if case == "tests-kept-out-by-dockerignore":
        with (project / ".dockerignore").open("a") as ignore:
            ignore.write("**/*_test.go\n")
    committed(project)
    before = docker_objects(docker, slug)
    for mode in ("on", "strict"):
        proc = make_verify(project, {**docker_env(docker, standin_images), "VERIFY": mode})
        steps = step_lines(proc.stdout)
        if case == "control-normal-service":
            assert proc.returncode == 0 and set(steps.values()) == {"ok"}, proc.stdout + proc.stderr
            assert "2 packages with tests, all tested" in proc.stdout, proc.stdout
            continue
        assert proc.returncode != 0 and steps["go checks"] == "FAIL", proc.stdout
        assert "NOT verified" in proc.stdout and ": verified" not in proc.stdout
        if case == "tests-kept-out-by-dockerignore":
            assert "the build context lacks their tests (a .dockerignore line such as `**/*_test.go`?)" in proc.stdout
            named = re.findall(r"^verify:\s+(github\.com/\S+)$", proc.stdout, re.M)
            assert sorted(named) == [f"github.com/example/{slug}", f"github.com/example/{slug}/internal/alwaysfails",
                                    f"github.com/example/{slug}/internal/platform"], proc.stdout
        else:
            assert "this test ran, and fails on purpose" in proc.stdout, proc.stdout
    assert verify_leftovers(docker, slug, before) == []


class AnswersInTurn(http.server.BaseHTTPRequestHandler):
    """A loopback server that answers each GET with the next status of `statuses`."""

    statuses: list[int] = []
    asked = 0

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        cls = type(self)
        status = cls.statuses[min(cls.asked, len(cls.statuses) - 1)]
        cls.asked += 1
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        pass


def flaky_test(port: int) -> str:
    """A Go test that passes only when the loopback server answers 200 (the checks build
    on the host network, as in these tests)."""
    return (f'package flaky\n\nimport (\n\t"net/http"\n\t"testing"\n)\n\n'
            f'func TestTheServerSaysOK(t *testing.T) {{\n'
            f'\tresp, err := http.Get("http://127.0.0.1:{port}/")\n'
            f'\tif err != nil {{\n\t\tt.Fatal(err)\n\t}}\n'
            f'\tresp.Body.Close()\n'
            f'\tif resp.StatusCode != http.StatusOK {{\n\t\tt.Fatalf("flaky: the server said %d", resp.StatusCode)\n\t}}\n'
            f'}}\n')


@pytest.mark.docker
@pytest.mark.parametrize("case", ["failure-run-again", "control-cached-failure-kept"])
def test_a_failed_check_runs_again_on_the_next_verification(
    case: str, tmp_path: Path, docker: str, standin_images: dict[str, str]
) -> None:
    """A flaky test: its server fails it twice, then lets it pass. BuildKit keeps the checks
    step's result like any other, so a `make verify` on the same files could report an old
    failure without running anything (Docker 20.10's BuildKit runs the step once more after
    a change, then answers from its cache). Go never caches a failed test, and neither does
    verification: every run runs the tests, and the third passes. Control: without that
    (cached_failure made false), the third run reports an earlier run's failure and never
    asks the server."""
    handler = type("Answers", (AnswersInTurn,), {"statuses": [500, 500, 200], "asked": 0})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        project = copier_generate(tmp_path / "service", {"app_kind": "cli"})
        (project / "internal" / "flaky").mkdir()
        (project / "internal" / "flaky" / "flaky_test.go").write_text(flaky_test(server.server_address[1]))
        if case.startswith("control"):
            always_false(project, "cached_failure")
        committed(project)
        runs = [make_verify(project, docker_env(docker, standin_images)) for _ in range(3)]
    finally:
        server.shutdown()
        server.server_close()
    for proc in runs[:2]:
        assert step_lines(proc.stdout)["go checks"] == "FAIL" and "flaky: the server said 500" in proc.stdout, \
            proc.stdout
    third = runs[2]
    if case == "failure-run-again":
        assert third.returncode == 0 and set(step_lines(third.stdout).values()) == {"ok"}, third.stdout
        assert handler.asked == 3, "each run ran the test"
    else:
        assert step_lines(third.stdout)["go checks"] == "FAIL" and "the server said 500" in third.stdout, third.stdout
        assert handler.asked < 3, "the control's last run answered from the cache"


@pytest.mark.docker
def test_strict_copier_copy_with_standin_images_passes_end_to_end(
    tmp_path: Path, docker: str, standin_images: dict[str, str], capfd: pytest.CaptureFixture[str]
) -> None:
    """The README's first commands, offline: `GO_IMAGE=... VERIFY=strict make demo`."""
    import copier
    from plumbum import local

    dst = tmp_path / "demo"
    slug = f"demo-{uuid.uuid4().hex[:6]}"  # the defaults, but a name of its own: parallel runs never collide
    before = docker_objects(docker, slug)
    with local.env(VERIFY="strict", **docker_env(docker, standin_images)):
        copier.run_copy(str(ROOT), str(dst), data={"project_name": slug}, defaults=True, unsafe=True,
                        vcs_ref="HEAD", quiet=True)
    out = capfd.readouterr().out
    assert "7 ok, 0 failed, 0 skipped: verified" in out, out
    assert out.count("verify: [ ok ] smoke run") == 1, "each step is printed once"
    assert verify_leftovers(docker, slug, before) == []
    assert (dst / "main.go").exists()


def test_standin_tags_in_the_script_match_the_fixtures() -> None:
    script = (ROOT / "scripts" / "standin-images.sh").read_text()
    for tag in STANDIN_IMAGES.values():
        assert f"={tag}\n" in script, f"scripts/standin-images.sh does not build {tag}"


def without_the_probe(source: str) -> str:
    """The server's flags as a release before the -healthcheck probe wrote them for
    healthcheck=false (then in main.go, which a service made then still has; now in
    internal/platform/server.go)."""
    text, flags = re.subn(r"^\thealthcheck := flags?\.Bool\(.*\n", "", source, flags=re.M)
    text, blocks = re.subn(r"^\tif \*healthcheck \{\n(?:.*\n)*?\t\}\n", "", text, flags=re.M)
    assert flags == blocks == 1, "the probe changed shape: update this test"
    return text


@pytest.mark.docker
@pytest.mark.parametrize("healthcheck", [False, True], ids=["no-HEALTHCHECK", "control-HEALTHCHECK-needs-the-probe"])
def test_an_older_main_go_without_the_probe_still_gets_a_smoke_run(
    healthcheck: bool, tmp_path: Path, docker: str, standin_images: dict[str, str]
) -> None:
    """A team's main.go from before the probe was always there: without a HEALTHCHECK the
    smoke run asks /healthz from beside the container; with one, the HEALTHCHECK cannot run
    and the image fails, as it would in production."""
    slug = f"oldmain-{uuid.uuid4().hex[:6]}"
    project = copier_generate(tmp_path / "service", {"project_name": slug, "healthcheck": healthcheck})
    server_go = project / "internal" / "platform" / "server.go"
    server_go.write_text(without_the_probe(server_go.read_text()))
    committed(project)
    before = docker_objects(docker, slug)
    proc = make_verify(project, docker_env(docker, standin_images))
    steps = step_lines(proc.stdout)
    if healthcheck:
        assert proc.returncode != 0 and steps["smoke run"] == "FAIL", proc.stdout
        assert "flag provided but not defined: -healthcheck" in proc.stdout
    else:
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert steps["smoke run"] == "ok" and "wget /healthz from" in proc.stdout, proc.stdout
    assert verify_leftovers(docker, slug, before) == []


LINTER_NOT_PULLED = ("the linter image {printed} (connection refused) could not be pulled: set LINT_IMAGE to a "
                     "mirror's or a local image, or unset it to compile the linter here (docs/offline.md)")


@pytest.mark.parametrize("arg, image, printed, wanted", [
    ("GO_IMAGE", "127.0.0.1:9/golang:1.27-alpine", "127.0.0.1:9/golang:1.27-alpine",
     "the base image {printed} (connection refused) could not be pulled: "
     "set GO_IMAGE or RUNTIME_IMAGE to a mirror's or a local image (docs/offline.md)"),
    ("LINT_IMAGE", "127.0.0.1:9/golangci/golangci-lint:v2.15.0-alpine",
     "127.0.0.1:9/golangci/golangci-lint:v2.15.0-alpine", LINTER_NOT_PULLED),
    # No tag: BuildKit's log says :latest, which the setting does not.
    ("LINT_IMAGE", "127.0.0.1:9/golangci-lint", "127.0.0.1:9/golangci-lint:latest", LINTER_NOT_PULLED),
], ids=["base-image", "linter-image", "linter-image-untagged"])  # fmt: skip
@pytest.mark.docker
def test_an_image_that_cannot_be_pulled_gets_one_line_naming_the_way_out(
        tmp_path: Path, docker: str, standin_images: dict[str, str], arg: str, image: str, printed: str,
        wanted: str) -> None:
    """A registry that does not answer (on loopback: nothing listens on port 9): each failed
    step is one line naming the image and the setting that replaces it, not BuildKit's log."""
    project = committed(copier_generate(tmp_path / "service", {}))
    images = {**build_args(standin_images, "scratch"), arg: image}
    proc = make_verify(project, {"DOCKER": docker, "VERIFY_DOCKER_NETWORK": "host", **images})
    assert proc.returncode != 0
    failures = [line for line in proc.stdout.splitlines() if line.startswith("verify: [FAIL]")]
    wanted = wanted.format(printed=printed)
    assert failures and all(line.endswith(wanted) for line in failures), proc.stdout
    assert not [line for line in proc.stdout.splitlines() if line.startswith("verify:        ")], \
        "one line each, no BuildKit log below it"
    # The control: the log that line replaces, as BuildKit prints it.
    raw = subprocess.run([docker, "build", "--progress=plain", "--network", "host",
                          *(f"--build-arg={name}={value}" for name, value in images.items()),
                          "--target", "checks", "."], cwd=project, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "DOCKER_BUILDKIT": "1"})
    assert raw.returncode != 0 and "load metadata for" in raw.stderr and "docs/offline.md" not in raw.stderr


@pytest.mark.docker
@pytest.mark.parametrize("lint_image", ["a-prebuilt-linter", "control-compiled-here"])
def test_lint_image_replaces_the_compiled_linter(
    tmp_path: Path, docker: str, standin_images: dict[str, str], lint_image: str
) -> None:
    """LINT_IMAGE names a prebuilt golangci-lint (its /usr/bin/golangci-lint, as in the
    linter's own images), and the lint runs that one. Here a stand-in that always finds
    one issue; the control, without LINT_IMAGE, lints with the compiled linter and passes."""
    project = committed(copier_generate(tmp_path / "service", {"app_kind": "cli"}))
    env = {**docker_env(docker, standin_images), "VERIFY": "on"}
    tag = f"fake-linter-{uuid.uuid4().hex[:8]}:test"
    if lint_image == "a-prebuilt-linter":
        context = tmp_path / "linter"
        context.mkdir()
        (context / "golangci-lint").write_text("#!/bin/sh\necho 'main.go:1:1: the prebuilt linter ran (fake)'\nexit 1\n")
        (context / "golangci-lint").chmod(0o755)
        (context / "Dockerfile").write_text(f"FROM {standin_images['alpine']}\nCOPY golangci-lint /usr/bin/golangci-lint\n")
        run([docker, "build", "--network", "host", "-q", "-t", tag, str(context)], cwd=tmp_path,
            env={"DOCKER_BUILDKIT": "1"})  # fmt: skip
        env["LINT_IMAGE"] = tag
    try:
        proc = make_verify(project, env)
    finally:
        subprocess.run([docker, "image", "rm", "-f", tag], capture_output=True, check=False)
    lines = step_lines(proc.stdout)
    if lint_image == "a-prebuilt-linter":
        assert lines["lint"] == "FAIL" and "the prebuilt linter ran (fake)" in proc.stdout, proc.stdout
        assert lines["docker build"] == "ok" and lines["go checks"] == "ok", "only the lint uses LINT_IMAGE"
    else:
        assert proc.returncode == 0 and lines["lint"] == "ok", proc.stdout


# What runc prints when it loses a process that ended as it started (its exec fifo race).
RUNC_LOST = "container process is already dead"
LOST_TWICE = ("the container runtime lost a build step's process twice (runc: container process is already dead): "
              "restart the Docker engine, then run make verify again")


def docker_that_loses(tmp_path: Path, docker: str, builds: int, starts: int) -> Path:
    """The real docker client, except that the runtime loses the process of the first `builds`
    image builds and checks builds, and of the first `starts` container starts, failing them
    as runc does now and then (seen in this project's CI: a `go mod download` step that
    failed at once)."""
    state = tmp_path / "docker-calls"
    state.mkdir()
    fake = tmp_path / "docker-that-loses"
    fake.write_text(
        "#!/bin/sh\n"
        "kind='' limit=0\n"
        'case $1 in\n'
        f'  build) kind=image limit={builds}; case " $* " in *" --target "*) kind=checks ;; esac ;;\n'
        f'  start) kind=start limit={starts} ;;\n'
        "esac\n"
        'if [ -n "$kind" ]; then\n'
        f'  n=$(( $(cat {state}/$kind 2>/dev/null || echo 0) + 1 )); echo $n >{state}/$kind\n'
        '  if [ $n -le $limit ] && [ $kind = start ]; then\n'
        f"    echo 'Error response from daemon: OCI runtime start failed: {RUNC_LOST}: unknown' >&2; exit 1\n"
        '  elif [ $n -le $limit ]; then\n'
        "    echo '#9 [build 3/7] RUN go mod download' >&2\n"
        f"    echo '#9 0.112 runc run failed: {RUNC_LOST}' >&2\n"
        "    echo '#9 ERROR: executor failed running [/bin/sh -c go mod download]: exit code: 1' >&2\n"
        "    exit 1\n"
        "  fi\n"
        "fi\n"
        f'exec {docker} "$@"\n'
    )
    fake.chmod(0o755)
    return fake


@pytest.mark.docker
@pytest.mark.parametrize(("case", "app_kind", "builds", "starts"), [
    ("builds-lost-once", "http", 1, 0),
    ("control-not-built-again", "http", 1, 0),
    ("builds-lost-twice", "http", 2, 0),
    ("builds-lost-once-then-a-real-failure", "http", 1, 0),
    ("start-lost-once", "cli", 0, 1),
])  # fmt: skip
def test_a_process_the_container_runtime_lost_is_run_once_more(
    tmp_path: Path, docker: str, standin_images: dict[str, str], case: str, app_kind: str, builds: int, starts: int
) -> None:
    """runc now and then loses a process that ends as it starts, and the build or container
    start fails whatever the project did. Verification runs it once more and says so; a
    second loss gets one line naming the way out. Control: without the second try
    (lost_by_runtime made false), the first loss fails the build with runc's message."""
    project = copier_generate(tmp_path / "service", {"app_kind": app_kind})
    if case.startswith("control"):
        always_false(project, "lost_by_runtime")
    if case.endswith("real-failure"):  # the second try fails for the project's own reason
        with (project / "main.go").open("a") as main_go:
            main_go.write("\nfunc broken() { undefinedName() }\n")
    committed(project)
    fake = docker_that_loses(tmp_path, docker, builds, starts)
    proc = make_verify(project, {**docker_env(docker, standin_images), "DOCKER": str(fake)})
    lines = step_lines(proc.stdout)
    failures = [line for line in proc.stdout.splitlines() if line.startswith("verify: [FAIL]")]
    if case == "builds-lost-once":
        assert proc.returncode == 0 and set(lines.values()) == {"ok"}, proc.stdout
        assert "(built again: the container runtime lost a step's process)" in proc.stdout
        assert "(run again: the container runtime lost a step's process)" in proc.stdout
    elif case == "control-not-built-again":
        assert proc.returncode != 0 and lines["docker build"] == "FAIL", proc.stdout
        assert any(line.endswith(f"runc run failed: {RUNC_LOST}") for line in failures), proc.stdout
    elif case.endswith("real-failure"):
        assert proc.returncode != 0 and lines["docker build"] == "FAIL" and lines["go checks"] == "FAIL", proc.stdout
        assert "undefined: undefinedName" in proc.stdout and LOST_TWICE not in proc.stdout, proc.stdout
    elif case == "builds-lost-twice":
        assert proc.returncode != 0, proc.stdout
        assert {name for name, status in lines.items() if status == "FAIL"} == {"docker build", "go checks", "lint"}
        assert all(line.endswith(LOST_TWICE) for line in failures), proc.stdout
    else:
        assert proc.returncode == 0 and lines["smoke run"] == "ok", proc.stdout
    tries = (tmp_path / "docker-calls" / ("start" if starts else "image")).read_text().strip()
    assert tries == ("1" if case.startswith("control") else "2"), "the lost one, and one more (the control: none)"
