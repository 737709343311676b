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

Not a test: it takes long (vfs storage, 2 cores) and its numbers depend on the machine.

Usage: python benchmarks/bench.py [--repeats N] [--only PATTERN] [--render-only]
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
import secrets
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
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


def one_line_change(source: str, marker: str) -> str:
    """main.go with the greeting string changed on exactly one line."""
    lines = source.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if "Hello from " in line:
            lines[i] = line.replace("Hello from ", f"Hello ({marker}) from ", 1)
            return "".join(lines)
    raise ValueError("main.go has no 'Hello from' line to change")


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


def timed_build(dockerfile: Path, context: Path, tag: str, build_args: dict[str, str], no_cache: bool) -> float:
    argv = ["build", "--network", "host", "-f", str(dockerfile), "-t", tag]
    if no_cache:
        argv.append("--no-cache")
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


def prepare(variant: Variant, work: Path, program: str, go_version: str) -> tuple[Path, Path]:
    """(context folder, Dockerfile) for a variant, in its own folder under work."""
    context = work / variant.name
    if variant.group == "ours":
        generated = generate_ours(work / "generated", variant.answers)
        shutil.copytree(generated, context)
        dockerfile_text = (context / "Dockerfile").read_text()
        shutil.copy(context / ".dockerignore", work / f"{variant.name}.Dockerfile.dockerignore")
    else:
        context.mkdir(parents=True)
        (context / "go.mod").write_text(seed_go_mod(go_version))
        if variant.needs_go_sum:
            (context / "go.sum").write_text("")
        dockerfile_text = variant.dockerfile.read_text()
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
]


def merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The old results with the newly measured variants replacing theirs (order kept, new ones appended)."""
    fresh = {v["name"]: v for v in new["variants"]}
    variants = [fresh.pop(v["name"], v) for v in old["variants"]] + list(fresh.values())
    merged = {**old, "variants": variants, "notes": new["notes"]}
    merged["official_images"] = {**old.get("official_images", {}), **new["official_images"]}
    merged["environment"] = {**old["environment"], "merged_at": new["environment"]["date"]}
    return merged


def render(results: dict[str, Any]) -> None:
    results["notes"] = NOTES  # the method's description as the script now states it
    known = {v.name: v for v in all_variants()}
    for entry in results["variants"]:
        if entry["name"] in known:
            entry["final_standin"] = known[entry["name"]].final_standin()
    report.summarize(results)
    DOCS_CHART.parent.mkdir(parents=True, exist_ok=True)
    report.render_chart(results, str(DOCS_CHART))
    DOCS_PAGE.write_text(report.render_markdown(results))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per variant; medians are reported (default 3)")
    parser.add_argument("--only", nargs="*", metavar="PATTERN", help="variants whose name matches (glob or substring)")
    parser.add_argument("--render-only", action="store_true", help="re-render docs from results/latest.json")
    parser.add_argument("--results", type=Path, default=RESULTS, help="results file (default benchmarks/results/latest.json)")
    parser.add_argument("--merge", action="store_true",
                        help="keep the other variants already in the results file (re-measure only --only's)")
    args = parser.parse_args(argv)

    if args.render_only:
        results = json.loads(args.results.read_text())
        render(results)
        args.results.write_text(json.dumps(results, indent=2) + "\n")
        print(f"bench: rendered {DOCS_PAGE.relative_to(ROOT)} and {DOCS_CHART.relative_to(ROOT)}")
        return 0
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

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
        go_version = re.search(r"^go (\S+)", (reference_project / "go.mod").read_text(), re.M).group(1)
        prepared = {}
        for variant in variants:
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
                run = run_variant_once(variant, context, dockerfile, template, program, repeat)
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

    if args.merge and args.results.exists():
        results = merge(json.loads(args.results.read_text()), results)
    render(results)
    args.results.write_text(json.dumps(results, indent=2) + "\n")
    partial.unlink(missing_ok=True)
    for target in results["targets"]:
        print(f"bench: {target['status']:4}  {target['claim']}: {target['detail']}")
    print(f"bench: wrote {args.results}, {DOCS_PAGE.relative_to(ROOT)}, {DOCS_CHART.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
