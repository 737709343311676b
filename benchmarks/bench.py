#!/usr/bin/env python3
"""Benchmark the template's Dockerfiles against the seed articles' and `docker init`'s.

One run, one program: the template's http main.go, built by every variant:
  - seed-*      each Dockerfile variant the seed articles show (benchmarks/dockerfiles/)
  - docker-init a Dockerfile written to what `docker init` generates for Go
  - ours-*      every runtime_base x upx variant of this template (copier, VERIFY=off)

For each, per repeat: image size, binary size, cold build time, rebuild time after a
one-line change to main.go, time from `docker run` to the first 200, and the RSS of
the server after 1000 requests. Results: benchmarks/results/latest.json; rendered
into docs/benchmarks.md and docs/img/benchmarks.png (report.py).

And the cost of verification (the "verification" key of the results): `copier copy`
with VERIFY=on from cold caches until its output says `verified`, against one cold
`docker build` of the same service; then `make verify` after a one-line change, against
a warm `docker build` of another one. It runs in a full run (not with --only), or alone
with --only-verification (the variants already in the results file are kept).

Not a test: it takes long (vfs storage, 2 cores) and its numbers depend on the machine.

Usage: python benchmarks/bench.py [--repeats N] [--only PATTERN | --only-verification] [--render-only]
"""

from __future__ import annotations

import argparse
import datetime as dt
import fnmatch
import http.client
import io
import json
import os
import re
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tarfile
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "hooks"))

import report  # noqa: E402

RESULTS = HERE / "results" / "latest.json"
DOCS_PAGE = ROOT / "docs" / "benchmarks.md"
DOCS_CHART = ROOT / "docs" / "img" / "benchmarks.png"

# Stand-ins (tests/conftest.py STANDIN_IMAGES; scripts/standin-images.sh builds them).
STANDIN_GO = "standin/golang:1.27-alpine"
STANDIN_ALPINE = "standin/alpine:3.22"
STANDIN_DISTROLESS = "standin/distroless-static:nonroot"

# What the publishers document about the official images the stand-ins replace.
# Never a stand-in's size: "not documented here" where no publisher's figure was found.
DISTROLESS_DOC = ("around 2 MiB (compression not stated): GoogleContainerTools/distroless README, "
                  "https://github.com/GoogleContainerTools/distroless")
ALPINE_DOC = ("~5 MB (compression not stated): Docker official images docs, golang/variant-alpine.md, "
              "https://github.com/docker-library/docs/pull/1749")
NOT_DOCUMENTED = "not documented here"
OFFICIAL_DOCUMENTED: dict[str, tuple[str, str]] = {
    # official image: (stand-in, documented size)
    "golang:1.10.3": (STANDIN_GO, NOT_DOCUMENTED),
    "golang:1.10.3-alpine": (STANDIN_GO, NOT_DOCUMENTED),
    "golang:1.18-bullseye": (STANDIN_GO, NOT_DOCUMENTED),
    "rhaps1071/golang-1.14-alpine-git": (STANDIN_GO, NOT_DOCUMENTED),
    "golang:1.27 (docker init)": (STANDIN_GO, NOT_DOCUMENTED),
    "golang:1.27-alpine": (STANDIN_GO, NOT_DOCUMENTED),
    "alpine": (STANDIN_ALPINE, ALPINE_DOC),
    "alpine:latest": (STANDIN_ALPINE, ALPINE_DOC),
    "alpine:3.22.2": (STANDIN_ALPINE, ALPINE_DOC),
    "gcr.io/distroless/static-debian11": (STANDIN_DISTROLESS, DISTROLESS_DOC),
    "gcr.io/distroless/static-debian12:nonroot": (STANDIN_DISTROLESS, DISTROLESS_DOC),
}


@dataclass
class Variant:
    name: str
    group: str  # ours | seed | peer
    title: str
    binary_path: str  # where the binary is in the image
    build_args: dict[str, str]  # arg -> stand-in image
    replaces: dict[str, str]  # arg -> the official image it stands in for
    dockerfile: Path | None = None  # None: the generated project's own Dockerfile
    answers: dict[str, Any] = field(default_factory=dict)  # copier answers (ours)
    needs_go_sum: bool = False
    final_base_arg: str | None = None  # the build arg naming the final image's base (None: scratch)

    def __post_init__(self) -> None:
        if self.final_base_arg is None and "RUNTIME_IMAGE" in self.build_args:
            self.final_base_arg = "RUNTIME_IMAGE"

    def final_standin(self) -> dict[str, str] | None:
        """The stand-in the shipped image is built on, if any: its size is in the image's."""
        if self.final_base_arg is None:
            return None
        return {"image": self.build_args[self.final_base_arg], "official": self.replaces[self.final_base_arg]}

    def standins(self) -> list[dict[str, str]]:
        return [{"arg": arg, "image": image, "official": self.replaces[arg]} for arg, image in self.build_args.items()]


def _seed(name: str, title: str, binary: str, single_stage: bool = False, **replaces: str) -> Variant:
    standin_for = {"GO_IMAGE": STANDIN_GO, "RUNTIME_IMAGE": None}
    args = {}
    for arg, official in replaces.items():
        args[arg] = standin_for[arg] or (STANDIN_DISTROLESS if "distroless" in official else STANDIN_ALPINE)
    return Variant(name, "seed", title, binary, args, replaces, HERE / "dockerfiles" / f"{name}.Dockerfile",
                   final_base_arg="GO_IMAGE" if single_stage else None)


def all_variants() -> list[Variant]:
    import service_template as st

    variants = []
    for base in st.CHOICES["runtime_base"]:
        for upx in (False, True):
            name = f"ours-{base}" + ("-upx" if upx else "")
            args = {"GO_IMAGE": STANDIN_GO}
            replaces = {"GO_IMAGE": st.BASE_IMAGES["go"].format(go_version="1.27")}
            if base in st.BASE_IMAGES:
                args["RUNTIME_IMAGE"] = {"alpine": STANDIN_ALPINE, "distroless": STANDIN_DISTROLESS}[base]
                replaces["RUNTIME_IMAGE"] = st.BASE_IMAGES[base]
            title = f"this template: runtime_base={base}, upx={'lzma' if upx else 'off'}, other answers default"
            variants.append(Variant(name, "ours", title, "/usr/local/bin/hello-service", args, replaces,
                                    answers={"runtime_base": base, "upx": upx}))
    variants += [
        _seed("seed-herman-naive", "seed 000 Dockerfile.naive: single-stage golang", "/go/src/app/app",
              single_stage=True, GO_IMAGE="golang:1.10.3"),
        _seed("seed-herman-alpine", "seed 000 Dockerfile.alpine: single-stage golang alpine", "/go/src/app/app",
              single_stage=True, GO_IMAGE="golang:1.10.3-alpine"),
        _seed("seed-herman-multi", "seed 000 Dockerfile.multi: multi-stage, alpine runtime, no cache mounts",
              "/app", GO_IMAGE="golang:1.10.3-alpine", RUNTIME_IMAGE="alpine"),
        _seed("seed-herman-scratch", "seed 000 Dockerfile.blank: multi-stage, scratch, CGO_ENABLED=0", "/app",
              GO_IMAGE="golang:1.10.3-alpine"),
        _seed("seed-smallest-distroless", "seed 002 Dockerfile.distroless: golang build, distroless static runtime",
              "/main", GO_IMAGE="golang:1.18-bullseye", RUNTIME_IMAGE="gcr.io/distroless/static-debian11"),
        _seed("seed-minimal-upx", "seed 003: scratch, -s -w, upx (default level)", "/app",
              GO_IMAGE="rhaps1071/golang-1.14-alpine-git"),
    ]
    init = Variant("docker-init", "peer",
                   "docker init's Go Dockerfile: golang build, module cache mount only, alpine + ca-certificates + tzdata, uid 10001",
                   "/bin/server", {"GO_IMAGE": STANDIN_GO, "RUNTIME_IMAGE": STANDIN_ALPINE},
                   {"GO_IMAGE": "golang:1.27 (docker init)", "RUNTIME_IMAGE": "alpine:latest"},
                   HERE / "dockerfiles" / "docker-init.Dockerfile", needs_go_sum=True)
    variants.append(init)
    return variants


# -- pure helpers (unit-tested) ------------------------------------------------

_CACHE_MOUNT_RE = re.compile(r"--mount=type=cache,(?![^\s]*\bid=)")


def isolate_cache_mounts(dockerfile: str, token: str) -> str:
    """Give every cache mount without an id its own id, unique to `token`.

    A cold build must not find a Go build cache that an earlier build (this run's,
    or anyone's on this engine) left in a shared cache mount. The rebuild that follows
    uses the same token, so it sees the cache its own cold build filled, as in real use.
    """
    counter = iter(range(1, 1000))
    return _CACHE_MOUNT_RE.sub(lambda _m: f"--mount=type=cache,id=bench-{token}-{next(counter)},", dockerfile)


def _change_one_line(source: str, needle: str, replacement: str) -> str:
    """`source` with `needle` replaced on the first line that holds it."""
    lines = source.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if needle in line:
            lines[i] = line.replace(needle, replacement, 1)
            return "".join(lines)
    raise ValueError(f"the source has no line with {needle!r} to change")


def one_line_change(source: str, marker: str) -> str:
    """main.go with the greeting string changed on exactly one line."""
    return _change_one_line(source, "Hello from ", f"Hello ({marker}) from ")


def add_route(source: str, marker: str) -> str:
    """main.go with one line added: a route beside the sample one, served by the same
    handler. A team's everyday change: it changes the binary, and the service's tests,
    which check the sample route, still pass."""
    sample = 'mux.HandleFunc("GET /{$}", hello)'
    return _change_one_line(source, sample, f'{sample}\n\tmux.HandleFunc("GET /{marker}", hello)')


def change_listening_message(source: str, marker: str) -> str:
    """internal/platform/server.go with the "listening" log message changed on exactly one line.

    It changes the binary but nothing the service's tests check (they check the
    greeting), so `make verify` still passes after it.
    """
    return _change_one_line(source, 'Logger.Info("listening"', f'Logger.Info("listening ({marker})"')


RESULT_PREFIX = "verify-result: "  # scripts/verify.sh's last line: its result as JSON


def parse_verify_output(output: str) -> dict[str, Any]:
    """What scripts/verify.sh said, from its machine-readable last line (`verify-result: {...}`):
    whether every step passed (exit 0, none failed or skipped), its closing line, each step's seconds."""
    lines = [line.rstrip() for line in output.splitlines() if line.strip()]
    summary = next((line for line in reversed(lines) if line.startswith("verify: ")), "")
    result: dict[str, Any] = {}
    if lines and lines[-1].startswith(RESULT_PREFIX):
        try:
            result = json.loads(lines[-1][len(RESULT_PREFIX):])
        except json.JSONDecodeError:
            result = {}
    steps = {name: float(step["seconds"]) for name, step in result.get("steps", {}).items()}
    statuses = {step["status"] for step in result.get("steps", {}).values()}
    verified = (result.get("exit") == 0 and result.get("failed") == 0 and result.get("skipped") == 0
                and bool(steps) and statuses == {"ok"})
    return {"verified": verified, "summary": summary, "steps": steps}


def seed_go_mod(go_version: str) -> str:
    """The seeds' go.mod: module `app`, so `go build` writes ./app as their ENTRYPOINTs expect."""
    return f"module app\n\ngo {go_version}\n"


def vm_rss_kib(status_text: str) -> int | None:
    """VmRSS in KiB from /proc/PID/status."""
    match = re.search(r"^VmRSS:\s+(\d+)\s+kB", status_text, re.M)
    return int(match.group(1)) if match else None


def select(variants: list[Variant], patterns: list[str] | None) -> list[Variant]:
    if not patterns:
        return variants
    chosen = [v for v in variants if any(fnmatch.fnmatch(v.name, p) or p in v.name for p in patterns)]
    if not chosen:
        raise SystemExit(f"bench: --only {' '.join(patterns)} matches no variant ({', '.join(v.name for v in variants)})")
    return chosen


# -- Docker --------------------------------------------------------------------

DOCKER = os.environ.get("DOCKER") or ("/usr/bin/docker" if Path("/usr/bin/docker").exists() else "docker")
ENV = {**os.environ, "DOCKER_BUILDKIT": "1"}


def docker(*args: str, timeout: float = 1800, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([DOCKER, *args], capture_output=True, text=True, timeout=timeout, env=ENV)
    if check and proc.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args[:3])}... exited {proc.returncode}: {proc.stderr.strip()[-1500:]}")
    return proc


def timed_build(dockerfile: Path, context: Path, tag: str, build_args: dict[str, str], no_cache: bool,
                target: str | None = None) -> float:
    argv = ["build", "--network", "host", "-f", str(dockerfile), "-t", tag]
    if no_cache:
        argv.append("--no-cache")
    if target:
        argv += ["--target", target]
    for key, value in build_args.items():
        argv += ["--build-arg", f"{key}={value}"]
    start = time.perf_counter()
    docker(*argv, str(context))
    return time.perf_counter() - start


def file_size_in_image(image: str, path: str) -> int:
    """The size of one file in an image (works for scratch: no shell needed)."""
    container = docker("create", image).stdout.strip()
    try:
        data = subprocess.run([DOCKER, "cp", f"{container}:{path}", "-"], capture_output=True, timeout=300, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            member = tar.getmembers()[0]
            if member.issym():  # follow one symlink level
                return file_size_in_image(image, str(Path(path).parent / member.linkname))
            return member.size
    finally:
        docker("rm", "-f", container, check=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_status(port: int, timeout: float = 0.5) -> int | None:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conn.request("GET", "/")
        status = conn.getresponse().status
        conn.close()
        return status
    except OSError:
        return None


def measure_run(image: str, name: str) -> tuple[float, int]:
    """(seconds from `docker run` to the first 200 on GET /, VmRSS KiB after 1000 more requests)."""
    port = free_port()
    container = f"mgs-bench-{name}-{secrets.token_hex(3)}"
    start = time.perf_counter()
    docker("run", "-d", "--network", "host", "-e", f"PORT={port}", "--name", container, image)
    try:
        deadline = start + 120
        while True:
            if get_status(port) == 200:
                first_200 = time.perf_counter() - start
                break
            if time.perf_counter() > deadline:
                logs = docker("logs", container, check=False)
                raise RuntimeError(f"{name}: no 200 within 120 s; logs: {(logs.stdout + logs.stderr)[-500:]}")
            time.sleep(0.005)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for _ in range(1000):
            conn.request("GET", "/")
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"{name}: GET / answered {response.status}")
        pid = docker("inspect", "--format", "{{.State.Pid}}", container).stdout.strip()
        rss = vm_rss_kib(Path(f"/proc/{pid}/status").read_text())
        conn.close()
        if rss is None:
            raise RuntimeError(f"{name}: no VmRSS for pid {pid}")
        return first_200, rss
    finally:
        docker("rm", "-f", container, check=False)


# -- preparing the variants ----------------------------------------------------

def generate_ours(work: Path, answers: dict[str, Any]) -> Path:
    import copier
    from plumbum import local

    dst = work / ("ours-" + "-".join(f"{k}={v}" for k, v in answers.items()))
    with local.env(VERIFY="off"):
        copier.run_copy(str(ROOT), str(dst), data=answers, defaults=True, unsafe=True, vcs_ref="HEAD", quiet=True)
    return dst


SEED_MODULE = "app"  # the seeds' go.mod (seed_go_mod): `go build` names the binary ./app
PLATFORM_DIR = Path("internal/platform")


def module_path(project: Path) -> str:
    return re.search(r"^module (\S+)", (project / "go.mod").read_text(), re.M).group(1)


def seed_sources(project: Path) -> dict[Path, str]:
    """The generated service's Go files other than main.go (its internal/platform), with
    the module path the seeds' go.mod declares, so their `go build` compiles the same
    program as ours. main.go's import is rewritten by seed_main."""
    module = module_path(project)
    return {path.relative_to(project): path.read_text().replace(module, SEED_MODULE)
            for path in sorted((project / PLATFORM_DIR).glob("*.go"))}


def seed_main(program: str, module: str) -> str:
    """main.go importing the platform package under the seeds' module path."""
    return program.replace(f'"{module}/', f'"{SEED_MODULE}/')


def prepare(variant: Variant, work: Path, program: str, go_version: str,
            sources: dict[Path, str] | None = None) -> tuple[Path, Path]:
    """(context folder, Dockerfile) for a variant, in its own folder under work; `sources`
    are the other Go files of the program, for the seeds (ours generate their own)."""
    context = work / variant.name
    if variant.group == "ours":
        generated = generate_ours(work / "generated", variant.answers)
        shutil.copytree(generated, context)
        shutil.copy(context / ".dockerignore", work / f"{variant.name}.Dockerfile.dockerignore")
    else:
        context.mkdir(parents=True)
        (context / "go.mod").write_text(seed_go_mod(go_version))
        if variant.needs_go_sum:
            (context / "go.sum").write_text("")
        for path, text in (sources or {}).items():
            (context / path).parent.mkdir(parents=True, exist_ok=True)
            (context / path).write_text(text)
    (context / "main.go").write_text(program)
    return context, work / f"{variant.name}.Dockerfile"


def run_variant_once(variant: Variant, context: Path, dockerfile: Path, template: str, program: str, repeat: int) -> dict:
    run: dict[str, Any] = {"repeat": repeat}
    tag = f"mgs-bench/{variant.name}:latest"
    try:
        (context / "main.go").write_text(program)
        dockerfile.write_text(isolate_cache_mounts(template, secrets.token_hex(6)))
        run["cold_build_s"] = timed_build(dockerfile, context, tag, variant.build_args, no_cache=True)
        # A marker no other build has used: identical seed stages (naive, alpine and the
        # multi-stage builder are the same four lines) must not share a rebuild's cache.
        (context / "main.go").write_text(one_line_change(program, f"rebuild {secrets.token_hex(6)}"))
        run["rebuild_s"] = timed_build(dockerfile, context, tag, variant.build_args, no_cache=False)
        run["image_bytes"] = int(docker("image", "inspect", "--format", "{{.Size}}", tag).stdout.strip())
        run["binary_bytes"] = file_size_in_image(tag, variant.binary_path)
        run["first_200_s"], run["rss_kib"] = measure_run(tag, variant.name)
    except Exception as exc:  # a failed variant is reported, not fatal to the run
        run["error"] = str(exc)[-2000:]
    finally:
        free_build_disk()
    return run


def free_build_disk() -> None:
    """Drop what a run leaves behind: its fresh cache mounts and the image its rebuild replaced.

    Each cold build gets cache mounts no later build uses, and on vfs storage every
    snapshot is a full copy that BuildKit counts as a small diff (so --keep-storage does
    not bound the disk): a full run left tens of GB here until the disk was full. Every
    run starts cold anyway, so all of BuildKit's cache can go.
    """
    docker("builder", "prune", "-af", check=False)
    docker("image", "prune", "-f", check=False)  # dangling only: the rebuild's predecessors


def environment(repeats: int, variants: list[Variant]) -> dict[str, Any]:
    def quiet(*args: str) -> str:
        proc = docker(*args, check=False)
        return proc.stdout.strip() if proc.returncode == 0 else "unknown"

    standins = sorted({image for v in variants for image in v.build_args.values()})
    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "docker_server": quiet("version", "--format", "{{.Server.Version}}"),
        "docker_client": quiet("version", "--format", "{{.Client.Version}}"),
        "storage_driver": quiet("info", "--format", "{{.Driver}}"),
        "go_version": quiet("run", "--rm", "--network", "host", STANDIN_GO, "go", "env", "GOVERSION") + " (builder stand-in)",
        "cpus": os.cpu_count(),
        # Other jobs may share the machine: timings are only comparable within one run.
        "load_average_at_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "repeats": repeats,
        "standins_used": True,
        "standin_images": {image: quiet("image", "inspect", "--format", "{{.Id}}", image) for image in standins},
    }


def official_images(variants: list[Variant]) -> dict[str, dict[str, Any]]:
    table: dict[str, dict[str, Any]] = {}
    for variant in variants:
        for standin in variant.standins():
            official = standin["official"]
            image, documented = OFFICIAL_DOCUMENTED.get(official, (standin["image"], NOT_DOCUMENTED))
            if official not in table:
                size = docker("image", "inspect", "--format", "{{.Size}}", image, check=False).stdout.strip()
                table[official] = {"standin": image, "standin_bytes": int(size) if size.isdigit() else None,
                                   "documented": documented}
    return table


# -- verification: what proving the service costs ------------------------------

VERIFICATION_TAG = "mgs-bench/verification:latest"


def copier_executable() -> str:
    """The copier next to this Python (the project's .venv), else the one on PATH."""
    for candidate in (ROOT / ".venv" / "bin" / "copier", Path(sys.executable).parent / "copier"):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("copier")
    if found is None:
        raise RuntimeError("no copier executable (the project's .venv/bin/copier, or on PATH)")
    return found


LINT_TAG = "mgs-bench/golangci-lint:latest"


def verification_env() -> dict[str, str]:
    """What copier's verify task and `make verify` see: the stand-in builder, the linter as a
    prebuilt image (LINT_IMAGE, as a team pulls golangci-lint's own: local here, like the
    stand-in base images), the host network."""
    return {**ENV, "VERIFY": "on", "DOCKER": DOCKER, "GO_IMAGE": STANDIN_GO, "LINT_IMAGE": LINT_TAG,
            "VERIFY_DOCKER_NETWORK": "host"}


def build_linter_image(work: Path) -> float:
    """The prebuilt linter the runs use: the template's own linter-source stage, tagged (a
    tagged image outlives `docker builder prune`). Returns the seconds its compile took on an
    empty build cache: what a machine without a prebuilt linter pays once."""
    project = generate_ours(work, {})
    docker("builder", "prune", "-af")
    return timed_build(project / "Dockerfile", project, LINT_TAG, {"GO_IMAGE": STANDIN_GO}, no_cache=True,
                       target="linter-source")


@dataclass
class Timed:
    seconds: float
    returncode: int | None  # None: killed at the timeout
    stdout: str
    stderr: str
    marks: dict[str, float]  # line prefix -> seconds from the start to the first stdout line with it


def run_timed(argv: list[str], cwd: Path, env: dict[str, str], marks: tuple[str, ...] = (),
              timeout: float = 1800) -> Timed:
    """Run a command to its end, timing it and when stdout first shows each of `marks`.

    Its own session, so a timeout stops it and its children (verify.sh traps SIGTERM and
    removes what it made)."""
    start = time.perf_counter()
    seen: dict[str, float] = {}
    lines: list[str] = []
    timed_out = threading.Event()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=err, text=True,
                                stdin=subprocess.DEVNULL, start_new_session=True)

        def stop() -> None:
            timed_out.set()
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, stop)
        timer.start()
        try:
            for line in proc.stdout:
                now = time.perf_counter() - start
                lines.append(line)
                for prefix in marks:
                    if prefix not in seen and line.startswith(prefix):
                        seen[prefix] = now
            returncode = proc.wait()
        finally:
            timer.cancel()
        seconds = time.perf_counter() - start
        err.seek(0)
        stderr = err.read()
    return Timed(seconds, None if timed_out.is_set() else returncode, "".join(lines), stderr, seen)


def _not_verified(what: str, timed: Timed, parsed: dict[str, Any]) -> str | None:
    """Why a run that should end verified did not, in one line (None: it did)."""
    if timed.returncode is None:
        return f"{what}: stopped after {timed.seconds:.0f} s (timeout); last line {parsed['summary']!r}"
    if timed.returncode != 0:
        tail = " | ".join(timed.stderr.strip().splitlines()[-3:])
        return f"{what}: exit {timed.returncode}; last line {parsed['summary']!r}; stderr: {tail[-500:]}"
    if not parsed["verified"]:
        return (f"{what}: not every step passed (closing line {parsed['summary']!r}, steps "
                f"{parsed['steps'] or 'none'}, from its {RESULT_PREFIX.strip()} line)")
    return None


def git_commit_all(project: Path, message: str) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost",
                        "-c", "commit.gpgsign=false", *args], cwd=project, check=True, capture_output=True, timeout=120)

    git("init", "-q")
    git("add", "-A")
    git("commit", "-q", "--no-verify", "-m", message)


# Where each warm pair is kept in a run's "warm": the team's change (the target's) and the platform's.
PAIR_KEYS = {"team": "pairs", "platform": "platform_pairs"}


def run_verification_once(work: Path, repeat: int, pairs: int) -> dict[str, Any]:
    """One repeat: cold (copier copy with VERIFY=on vs a cold docker build), then `pairs` warm
    pairs after a team's change and `pairs` after a platform change."""
    env = verification_env()
    service = work / f"verified-{repeat}"
    cold: dict[str, Any] = {}
    warm: dict[str, Any] = {"pairs": []}
    run = {"repeat": repeat, "cold": cold, "warm": warm}
    build_args = {"GO_IMAGE": STANDIN_GO}
    try:
        # Cold: empty BuildKit caches (the Go build cache mounts too) before each.
        docker("builder", "prune", "-af")
        copy = run_timed([copier_executable(), "copy", "--trust", "--defaults", "--vcs-ref", "HEAD",
                          str(ROOT), str(service)], work, env, marks=("verify: checking",))
        parsed = parse_verify_output(copy.stdout)
        cold.update(copier_verify_s=copy.seconds, generate_s=copy.marks.get("verify: checking"),
                    verify_steps=parsed["steps"], verify_summary=parsed["summary"])
        if error := _not_verified("copier copy with VERIFY=on", copy, parsed):
            cold["error"], cold["output_tail"] = error, copy.stdout.splitlines()[-20:]
        if not (service / "Dockerfile").exists():
            raise RuntimeError(f"copier copy made no service: {copy.stderr.strip()[-500:]}")
        docker("builder", "prune", "-af")
        cold["cold_build_s"] = timed_build(service / "Dockerfile", service, VERIFICATION_TAG, build_args, no_cache=True)
    except Exception as exc:
        cold["error"] = str(exc)[-2000:]
        warm["error"] = "not measured: the cold part failed"
        return run
    try:
        git_commit_all(service, "generated by copier")  # `git describe` for make's VERSION
        # The target's change is the team's own: a route added in main.go. A change in the
        # template-owned platform package (what `copier update` brings) is measured too:
        # its tests are the service's slowest.
        edits = {"team": (service / "main.go", add_route),
                 "platform": (service / PLATFORM_DIR / "server.go", change_listening_message)}
        sources = {kind: path.read_text() for kind, (path, _) in edits.items()}
        # The checks stage has not run since the plain cold build: its first run is not warm.
        first = run_timed(["make", "--no-print-directory", "verify"], service, env)
        warm["first_make_verify_s"] = first.seconds
        if error := _not_verified("first make verify", first, parse_verify_output(first.stdout)):
            warm["output_tail"] = first.stdout.splitlines()[-20:]
            raise RuntimeError(error)
        for kind, (path, change) in edits.items():
            for _ in range(pairs):
                pair: dict[str, Any] = {}
                warm.setdefault(PAIR_KEYS[kind], []).append(pair)
                path.write_text(change(sources[kind], f"verify-{secrets.token_hex(6)}"))
                timed = run_timed(["make", "--no-print-directory", "verify"], service, env)
                parsed = parse_verify_output(timed.stdout)
                pair.update(make_verify_s=timed.seconds, verify_steps=parsed["steps"],
                            verify_summary=parsed["summary"])
                if error := _not_verified("make verify", timed, parsed):
                    pair["error"], pair["output_tail"] = error, timed.stdout.splitlines()[-20:]
                path.write_text(change(sources[kind], f"build-{secrets.token_hex(6)}"))
                pair["docker_build_s"] = timed_build(service / "Dockerfile", service, VERIFICATION_TAG,
                                                     build_args, no_cache=False)
            path.write_text(sources[kind])
    except Exception as exc:
        warm["error"] = str(exc)[-2000:]
    return run


def template_commit() -> str:
    """The template measured: `git <describe>` of this checkout (-dirty with uncommitted changes)."""
    proc = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True,
                          text=True, timeout=120, check=False)
    return "git " + (proc.stdout.strip() if proc.returncode == 0 else "unknown")


def measure_verification(repeats: int, pairs: int, progress: Any = None) -> dict[str, Any]:
    """The verification part: `repeats` runs, each in a fresh folder; raw seconds per run."""
    def quiet(*argv: str) -> str:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
        return proc.stdout.strip() if proc.returncode == 0 else "unknown"

    verification: dict[str, Any] = {
        "environment": {
            "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "template": template_commit(),
            "copier": quiet(copier_executable(), "--version"),
            "docker_server": docker("version", "--format", "{{.Server.Version}}", check=False).stdout.strip(),
            "storage_driver": docker("info", "--format", "{{.Driver}}", check=False).stdout.strip(),
            "go_image": STANDIN_GO,
            "cpus": os.cpu_count(),
            "load_average_at_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
            "repeats": repeats,
            "warm_pairs_per_repeat": pairs,
        },
        "runs": [],
    }
    try:
        with tempfile.TemporaryDirectory(prefix="mgs-bench-linter-") as tmp:
            verification["environment"]["linter_compile_s"] = build_linter_image(Path(tmp))
        print(f"bench: the linter image took {verification['environment']['linter_compile_s']:.0f} s to compile",
              flush=True)
        for repeat in range(1, repeats + 1):
            print(f"bench: [{repeat}/{repeats}] verification (cold, then {pairs} + {pairs} warm pairs) ...", flush=True)
            with tempfile.TemporaryDirectory(prefix="mgs-bench-verify-") as tmp:
                run = run_verification_once(Path(tmp), repeat, pairs)
            verification["runs"].append(run)
            print(f"bench:   {json.dumps(run)}", flush=True)
            if progress is not None:
                progress(verification)
    finally:
        docker("rmi", VERIFICATION_TAG, check=False)
        docker("rmi", LINT_TAG, check=False)
        free_build_disk()
    verification["environment"]["load_average_at_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return verification


NOTES = [
    "Every variant builds the same program: the template's http main.go (default answers). The seeds' "
    "Dockerfiles build it with their own commands (a go.mod with `module app` stands in for their GOPATH "
    "layouts), so differences come from the Dockerfiles, not the code.",
    "Base images are stand-ins built offline (scripts/standin-images.sh): the stand-in golang is about the "
    "size of an Alpine toolchain image, so the single-stage seeds come out far smaller here than the "
    "Debian-based golang images their articles used (801 MB and 968 MB there). Their sizes here are not the "
    "articles' figures and not the official images' sizes.",
    "Offline deviations in the seeds and docker-init: `apk add` is skipped when the tool is already there "
    "(upx in the stand-in builder); docker-init copies the builder's zone files where it would `apk add tzdata`; "
    "`adduser` is replaced by a passwd/group line where the stand-in has none; seed 002's distroless stage runs "
    "as uid 65532 numerically (its user name exists only in the build stage). Each Dockerfile's header lists its changes.",
    "Cold build: `docker build --no-cache`, every cache mount given a fresh id so no Go build cache is warm. "
    "Base images are local, so no pull time is included.",
    "Rebuild: one string in main.go changed, then a normal build. The seeds recompile the standard library "
    "every time (no cache mounts); ours and docker-init keep Go's caches in cache mounts, and only ours keeps "
    "the build cache (docker-init mounts the module cache only).",
    "docker run to first 200 includes creating the container: on vfs storage that copies the image's files, "
    "so large images pay for their size here too.",
    "The machine (2 cores) was shared with other jobs during the run: timings are comparable within this run, "
    "between variants measured in turn, not with other machines or runs. The load is in the environment section.",
    "RSS: VmRSS of the container's main process (/proc/PID/status), after 1000 sequential GET / over one keep-alive "
    "connection. UPX-packed binaries unpack into anonymous memory, which shows up here.",
    "Throughput (`--only-throughput`): processes on this machine, not containers, so the image and the storage "
    "driver play no part: ours is `make build` of a generated service (the image's flags), the others are the seed "
    "article's hello world (benchmarks/hello/main.go, answering the service's greeting) built as each Dockerfile "
    "builds its program; seed-herman and docker-init build it with the same command, so they differ only by the "
    "run's noise. ours-log-off is ours with LOG_LEVEL=warn, to show what the access log costs. The hello-world "
    "builds are near-identical binaries: their spread within one run is the measurement's noise on this shared "
    "machine (2 cores, other jobs running), and a ratio inside that spread reads as equal.",
]


def merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The old results with the newly measured variants replacing theirs (order kept, new ones appended)."""
    fresh = {v["name"]: v for v in new["variants"]}
    variants = [fresh.pop(v["name"], v) for v in old["variants"]] + list(fresh.values())
    merged = {**old, "variants": variants, "notes": new["notes"]}
    merged["official_images"] = {**old.get("official_images", {}), **new["official_images"]}
    merged["environment"] = {**old["environment"], "merged_at": new["environment"]["date"]}
    if new.get("verification"):  # measured in this run: it replaces the old one
        merged["verification"] = new["verification"]
    return merged


def render(results: dict[str, Any], chart: bool = True) -> None:
    """docs/benchmarks.md, and the chart unless `chart` is false (nothing it shows was measured)."""
    results["notes"] = NOTES  # the method's description as the script now states it
    known = {v.name: v for v in all_variants()}
    for entry in results["variants"]:
        if entry["name"] in known:
            entry["final_standin"] = known[entry["name"]].final_standin()
    report.summarize(results)
    if chart and any(v.get("median", {}).get("image_bytes") is not None for v in results["variants"]):
        DOCS_CHART.parent.mkdir(parents=True, exist_ok=True)
        report.render_chart(results, str(DOCS_CHART))
    DOCS_PAGE.write_text(report.render_markdown(results))


def all_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    return (results.get("targets", []) + results.get("verification", {}).get("targets", [])
            + results.get("throughput", {}).get("targets", []))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per variant; medians are reported (default 3)")
    parser.add_argument("--only", nargs="*", metavar="PATTERN", help="variants whose name matches (glob or substring)")
    parser.add_argument("--render-only", action="store_true", help="re-render docs from results/latest.json")
    parser.add_argument("--results", type=Path, default=RESULTS, help="results file (default benchmarks/results/latest.json)")
    parser.add_argument("--merge", action="store_true",
                        help="keep the other variants already in the results file (re-measure only --only's)")
    parser.add_argument("--only-verification", action="store_true",
                        help="measure only the cost of verification; the variants in the results file are kept")
    parser.add_argument("--skip-verification", action="store_true",
                        help="a full run without the verification part (the one in the results file is kept "
                             "with --merge)")
    parser.add_argument("--verification-pairs", type=int, default=3, metavar="N",
                        help="warm pairs (make verify, docker build) per repeat, after a team's change and "
                             "again after a platform change (default 3 each)")
    parser.add_argument("--only-throughput", action="store_true",
                        help="measure only requests/s and p99 (wrk); everything else in the results file is kept")
    # 60 rounds (about 14 minutes): two 20-round measurements of the same template, with
    # the servers started once each, gave ours 0.98x and 0.88x (2026-12-06). More rounds,
    # and the servers started again every ROUNDS_PER_START, sample both the round-to-round
    # noise and each process's own speed more often.
    parser.add_argument("--throughput-pairs", type=int, default=60, metavar="N",
                        help="rounds of the throughput servers, each once per round (default 60)")
    parser.add_argument("--throughput-seconds", type=int, default=2, metavar="S", help="wrk's run length (default 2)")
    args = parser.parse_args(argv)

    if args.render_only:
        results = json.loads(args.results.read_text())
        render(results)
        args.results.write_text(json.dumps(results, indent=2) + "\n")
        print(f"bench: rendered {DOCS_PAGE.relative_to(ROOT)} and {DOCS_CHART.relative_to(ROOT)}")
        return 0
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.verification_pairs < 1:
        parser.error("--verification-pairs must be at least 1")
    if args.only_verification and (args.only is not None or args.skip_verification):
        parser.error("--only-verification measures no variant: not with --only or --skip-verification")
    if args.only_verification:
        return verification_only(args)
    if args.only_throughput:
        return throughput_only(args)

    variants = select(all_variants(), args.only)
    missing = [image for image in sorted({i for v in variants for i in v.build_args.values()})
               if docker("image", "inspect", image, check=False).returncode != 0]
    if missing:
        print(f"bench: missing stand-in images {', '.join(missing)}: run `make standin-images` first", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="mgs-bench-") as tmp:
        work = Path(tmp)
        reference_project = generate_ours(work / "program", {})
        program = (reference_project / "main.go").read_text()
        sources = seed_sources(reference_project)
        seed_program = seed_main(program, module_path(reference_project))
        go_version = re.search(r"^go (\S+)", (reference_project / "go.mod").read_text(), re.M).group(1)
        prepared = {}
        for variant in variants:
            if variant.group != "ours":
                context, dockerfile = prepare(variant, work, seed_program, go_version, sources)
            else:
                context, dockerfile = prepare(variant, work, program, go_version)
            template = (context / "Dockerfile").read_text() if variant.group == "ours" else variant.dockerfile.read_text()
            prepared[variant.name] = (context, dockerfile, template)

        env = environment(args.repeats, variants)
        results = {
            "environment": env,
            "reference": report.REFERENCE,
            "variants": [
                {"name": v.name, "group": v.group, "title": v.title,
                 "dockerfile": str(v.dockerfile.relative_to(ROOT)) if v.dockerfile else "generated project's Dockerfile",
                 "standins": v.standins(), "runs": []}
                for v in variants
            ],
            "official_images": official_images(variants),
            "notes": NOTES,
        }
        runs = {entry["name"]: entry["runs"] for entry in results["variants"]}
        # Partial results are saved after every run: an interrupted benchmark still has
        # its measurements (render them with --render-only --results ...).
        partial = args.results.with_suffix(".partial.json")
        partial.parent.mkdir(parents=True, exist_ok=True)
        # Seeds and peers first: a Dockerfile that fails shows up early in the run.
        order = sorted(variants, key=lambda v: v.group == "ours")
        # Repeats go round all variants in turn, so drift in the machine's load spreads evenly.
        for repeat in range(1, args.repeats + 1):
            for variant in order:
                context, dockerfile, template = prepared[variant.name]
                print(f"bench: [{repeat}/{args.repeats}] {variant.name} ...", flush=True)
                run = run_variant_once(variant, context, dockerfile, template,
                                       program if variant.group == "ours" else seed_program, repeat)
                runs[variant.name].append(run)
                print(f"bench:   {json.dumps(run)}", flush=True)
                if variant.name == report.REFERENCE and "ca_bundle_bytes" not in env and "error" not in run:
                    try:
                        env["ca_bundle_bytes"] = file_size_in_image(
                            f"mgs-bench/{report.REFERENCE}:latest", "/etc/ssl/certs/ca-certificates.crt")
                    except Exception as exc:
                        print(f"bench: no CA bundle size: {exc}", file=sys.stderr)
                partial.write_text(json.dumps(results, indent=2) + "\n")
        for variant in variants:
            docker("rmi", f"mgs-bench/{variant.name}:latest", check=False)

    # The verification part belongs to a full run; with --only, the variants are the point.
    if args.only is None and not args.skip_verification:
        def save(verification: dict[str, Any]) -> None:
            partial.write_text(json.dumps({**results, "verification": verification}, indent=2) + "\n")

        results["verification"] = measure_verification(args.repeats, args.verification_pairs, save)

    if args.merge and args.results.exists():
        results = merge(json.loads(args.results.read_text()), results)
    render(results)
    args.results.write_text(json.dumps(results, indent=2) + "\n")
    partial.unlink(missing_ok=True)
    for target in all_targets(results):
        print(f"bench: {target['status']:4}  {target['claim']}: {target['detail']}")
    print(f"bench: wrote {args.results}, {DOCS_PAGE.relative_to(ROOT)}, {DOCS_CHART.relative_to(ROOT)}")
    return 0


# -- throughput: requests/s and p99 -------------------------------------------------

HELLO_DIR = HERE / "hello"
WRK_CONNECTIONS = 32
SERVER_CPU, LOAD_CPU = 0, 1
ROUNDS_PER_START = 10  # rounds between the servers' starts (measure_throughput)
WRK_LATENCY_RE = re.compile(r"^\s*99%\s+([\d.]+)(us|ms|s)\s*$", re.M)
WRK_RPS_RE = re.compile(r"^Requests/sec:\s+([\d.]+)\s*$", re.M)


# A run is only as fair as the machine is quiet: a process on the server's CPU, or a
# host taking the CPU away (steal), slows that one server's run. Each run counts the
# CPU time of everything but the server and wrk; over OTHER_LOAD_MAX of a CPU, the run
# is measured again (up to QUIET_TRIES runs), and a run never quiet counts as missing.
OTHER_LOAD_MAX = 0.1
QUIET_TRIES = 3
# /proc/stat's first line: cpu user nice system idle iowait irq softirq steal ...
PROC_STAT_BUSY = (0, 1, 2, 5, 6)
PROC_STAT_STEAL = 7


def machine_cpu_seconds(proc_stat: str, ticks_per_second: int) -> float:
    """CPU seconds every CPU spent busy, or taken by the host (steal), from /proc/stat's text."""
    fields = [int(f) for f in proc_stat.split("\n", 1)[0].split()[1:]]
    return sum(fields[i] for i in (*PROC_STAT_BUSY, PROC_STAT_STEAL)) / ticks_per_second


def process_cpu_seconds(proc_pid_stat: str, ticks_per_second: int) -> float:
    """A process's user and system CPU seconds, from /proc/PID/stat's text."""
    fields = proc_pid_stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / ticks_per_second


@dataclass(frozen=True)
class CpuClock:
    """CPU seconds so far: the machine's, the server's, and this process's finished
    children's (wrk's, once it has been waited for); and the wall clock."""

    machine: float
    server: float
    children: float
    wall: float


def read_cpu_clock(server_pid: int) -> CpuClock:
    hz = os.sysconf("SC_CLK_TCK")
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return CpuClock(machine=machine_cpu_seconds(Path("/proc/stat").read_text(), hz),
                    server=process_cpu_seconds(Path(f"/proc/{server_pid}/stat").read_text(), hz),
                    children=children.ru_utime + children.ru_stime, wall=time.monotonic())


def other_load(before: CpuClock, after: CpuClock) -> float:
    """The share of a CPU that anything but the server and wrk used between the two
    readings. Left unclamped: the clock ticks' rounding makes a quiet run's slightly
    negative, and the page shows how near the noise comes to the limit."""
    measured = (after.server - before.server) + (after.children - before.children)
    return (after.machine - before.machine - measured) / (after.wall - before.wall)


def quiet_run(run_once: Callable[[], dict[str, Any]], tries: int = QUIET_TRIES,
              limit: float = OTHER_LOAD_MAX) -> dict[str, Any]:
    """run_once() until a run's other_load is at most limit, at most tries times. The
    run kept says how many were measured again; one never quiet is an error (missing)."""
    for attempt in range(tries):
        run = run_once()
        if run.get("other_load", 0.0) <= limit or "error" in run:
            return {**run, "measured_again": attempt}
    return {"error": f"other load of {run['other_load']:.2f} CPU in each of {tries} runs",
            "other_load": run["other_load"], "measured_again": tries - 1}


def parse_wrk(output: str) -> dict[str, float]:
    """Requests/s and the 99th percentile latency in ms from `wrk --latency` output."""
    rps, p99 = WRK_RPS_RE.search(output), WRK_LATENCY_RE.search(output)
    if not rps or not p99:
        raise ValueError(f"wrk printed no Requests/sec or 99% line: {output[-500:]}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    return {"rps": float(rps.group(1)), "p99_ms": float(p99.group(1)) * scale}


def go_build(source: Path, output: Path, env: dict[str, str], *flags: str) -> Path:
    subprocess.run(["go", "build", *flags, "-o", str(output), "."], cwd=source, check=True, timeout=600,
                   env={**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "", **env})
    return output


def throughput_servers(work: Path) -> list[dict[str, Any]]:
    """The servers measured: ours as `make build` builds it, and the seed's hello world
    built as each seed Dockerfile (and docker-init's) builds its program, on this machine."""
    project = generate_ours(work / "throughput", {})
    subprocess.run(["make", "build"], cwd=project, check=True, timeout=600, capture_output=True,
                   env={**os.environ, "GOTOOLCHAIN": "local"})
    ours = project / "bin" / "hello-service"
    hello = work / "hello"
    shutil.copytree(HELLO_DIR, hello)
    (hello / "go.mod").write_text(seed_go_mod(re.search(r"^go (\S+)", (project / "go.mod").read_text(), re.M)[1]))
    same_flags = subprocess.run(["make", "-s", "-f", "-", "flags"], cwd=project, check=True, text=True, capture_output=True,
                                input="include Makefile\nflags:\n\t@echo $(GOFLAGS)\n").stdout.split()
    return [
        {"name": report.THROUGHPUT_OURS, "title": "the generated service (default answers), access log on", "argv": [str(ours)],
         "env": {"SHUTDOWN_DELAY": "0"}},
        {"name": report.THROUGHPUT_LOG_OFF, "title": "the same binary, LOG_LEVEL=warn (no access log)", "argv": [str(ours)],
         "env": {"SHUTDOWN_DELAY": "0", "LOG_LEVEL": "warn"}},
        {"name": "seed-same-flags", "title": "the seed's hello world, built with the template's flags",
         "argv": [str(go_build(hello, work / "hello-same", {"CGO_ENABLED": "0"}, *same_flags, "-ldflags", "-s -w"))],
         "env": {}},
        {"name": "seed-herman", "title": "the seed's hello world, `CGO_ENABLED=0 go build` (seed-herman-scratch)",
         "argv": [str(go_build(hello, work / "hello-herman", {"CGO_ENABLED": "0"}))], "env": {}},
        {"name": "seed-minimal", "title": "its `-ldflags \"-s -w\"` build (seed-minimal-upx, before UPX)",
         "argv": [str(go_build(hello, work / "hello-minimal", {"CGO_ENABLED": "0"}, "-ldflags", "-s -w"))], "env": {}},
        {"name": "docker-init", "title": "docker-init's `CGO_ENABLED=0 go build -o /bin/server .`",
         "argv": [str(go_build(hello, work / "hello-init", {"CGO_ENABLED": "0"}))], "env": {}},
    ]


class RunningServer:
    """One server started for the whole measurement, pinned to the server CPU, on a free port."""

    def __init__(self, server: dict[str, Any]) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(["taskset", "-c", str(SERVER_CPU), *server["argv"]], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, env={**os.environ, **server["env"], "PORT": str(self.port)})
        deadline = time.monotonic() + 30
        while get_status(self.port) != 200:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise SystemExit(f"bench: {server['name']} did not answer within 30 s")
            time.sleep(0.05)

    def load(self, seconds: int) -> dict[str, Any]:
        """One wrk run against it, measured again while the machine was not quiet (quiet_run)."""
        return quiet_run(lambda: self.load_once(seconds))

    def load_once(self, seconds: int) -> dict[str, Any]:
        """One wrk run, with the share of a CPU that other processes (or the host) took meanwhile."""
        before = read_cpu_clock(self.proc.pid)  # taskset execs the server: the same pid
        try:
            out = subprocess.run(["taskset", "-c", str(LOAD_CPU), "wrk", "-t1", f"-c{WRK_CONNECTIONS}", f"-d{seconds}s",
                                  "--latency", f"http://127.0.0.1:{self.port}/"], capture_output=True, text=True,
                                 timeout=seconds + 60)
            run: dict[str, Any] = parse_wrk(out.stdout)
        except (ValueError, subprocess.SubprocessError) as exc:
            return {"error": str(exc)[-500:]}
        run["other_load"] = round(other_load(before, read_cpu_clock(self.proc.pid)), 3)
        return run

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def measure_throughput(pairs: int, seconds: int) -> dict[str, Any]:
    """Every server once per round, in turn (the order rotating), `pairs` rounds. The
    servers stay up, idle between their runs, for ROUNDS_PER_START rounds: a round then
    takes only its runs, so each round's reference is measured close in time to ours
    (the machine's speed drifts within seconds). Then they start again: a process's
    speed is partly its own (where its memory landed), and one process of ours for a
    whole measurement would be a single draw of that."""
    for tool in ("wrk", "taskset", "go", "make"):
        if shutil.which(tool) is None:
            raise SystemExit(f"bench: {tool} not found (apt-get install -y wrk for wrk)")
    with tempfile.TemporaryDirectory(prefix="mgs-throughput-") as tmp:
        servers = throughput_servers(Path(tmp))
        ours_binary_bytes = Path(servers[0]["argv"][0]).stat().st_size
        for server in servers:
            server["runs"] = []
        running: list[RunningServer] = []
        try:
            for round_ in range(pairs):
                if round_ % ROUNDS_PER_START == 0:
                    for proc in running:
                        proc.stop()
                    running = [RunningServer(server) for server in servers]
                    for proc in running:
                        proc.load(1)  # warm-up: connections, the heap, the log's buffer
                shift = round_ % len(servers)
                for index in [*range(shift, len(servers)), *range(shift)]:
                    run = running[index].load(seconds)
                    servers[index]["runs"].append(run)
                    print(f"bench: throughput [{round_ + 1}/{pairs}] {servers[index]['name']}: {json.dumps(run)}",
                          flush=True)
        finally:
            for proc in running:
                proc.stop()
    uname = os.uname()
    return {
        "environment": {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "pairs": pairs,
                        "template": template_commit(),
                        "seconds": seconds, "connections": WRK_CONNECTIONS, "server_cpu": SERVER_CPU,
                        "other_load_max": OTHER_LOAD_MAX, "quiet_tries": QUIET_TRIES,
                        "rounds_per_start": ROUNDS_PER_START,
                        "load_cpu": LOAD_CPU, "machine": f"{uname.sysname} {uname.release}, {os.cpu_count()} CPUs, "
                        f"load average {os.getloadavg()[0]:.2f} at the end"},
        "ours_binary_bytes": ours_binary_bytes,
        "servers": [{k: v for k, v in s.items() if k not in ("argv", "env")} for s in servers],
    }


def throughput_only(args: argparse.Namespace) -> int:
    """--only-throughput: measure requests/s and p99, keep everything else in the results file."""
    results = json.loads(args.results.read_text()) if args.results.exists() else {
        "environment": {}, "reference": report.REFERENCE, "variants": [], "official_images": {}, "notes": NOTES}
    results["throughput"] = measure_throughput(args.throughput_pairs, args.throughput_seconds)
    render(results, chart=False)
    args.results.write_text(json.dumps(results, indent=2) + "\n")
    for target in results["throughput"]["targets"]:
        print(f"bench: {target['status']:4}  {target['claim']}: {target['detail']}")
    return 0


def verification_only(args: argparse.Namespace) -> int:
    """--only-verification: measure the verification part, keep everything else in the results file."""
    if docker("image", "inspect", STANDIN_GO, check=False).returncode != 0:
        print(f"bench: missing stand-in image {STANDIN_GO}: run `make standin-images` first", file=sys.stderr)
        return 2
    if args.results.exists():
        results = json.loads(args.results.read_text())
    else:
        results = {"environment": {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")},
                   "reference": report.REFERENCE, "variants": [], "official_images": {}, "notes": NOTES}
    partial = args.results.with_suffix(".partial.json")
    partial.parent.mkdir(parents=True, exist_ok=True)

    def save(verification: dict[str, Any]) -> None:
        partial.write_text(json.dumps({**results, "verification": verification}, indent=2) + "\n")

    results["verification"] = measure_verification(args.repeats, args.verification_pairs, save)
    render(results, chart=False)  # the variants, and so the chart, are unchanged
    args.results.write_text(json.dumps(results, indent=2) + "\n")
    partial.unlink(missing_ok=True)
    for target in results["verification"]["targets"]:
        print(f"bench: {target['status']:4}  {target['claim']}: {target['detail']}")
        if target["why_not"]:
            print(f"bench:       why: {target['why_not']}")
    print(f"bench: wrote {args.results}, {DOCS_PAGE.relative_to(ROOT)}")
    errors = report.verification_errors(results["verification"])
    return 1 if errors["cold"] or errors["warm"] else 0


if __name__ == "__main__":
    sys.exit(main())
