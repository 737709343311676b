"""Real Docker builds of every runtime_base x app_kind, plus UPX and healthcheck variants.

Each case is generated, given a `.env` and a `.git` it must never ship, built once per
session with BuildKit against the stand-in base images (scripts/standin-images.sh), and
then examined: the user it runs as, what it answers, its HEALTHCHECK, its files, its
size, its time zone. Images are removed at the end of the session.
"""

from __future__ import annotations

import json
import re
import subprocess
import tarfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import service_template as st
from conftest import build_args, copier_generate, docker_build, elf_is_static, elf_machine, free_port, run, wait_for_200
from drain import load_and_drain

pytestmark = pytest.mark.docker

VERSION, COMMIT = "1.2.3", "abc1234"
SECRET = "e2e-secret-never-in-the-image"
BERLIN = "Europe/Berlin"
WAIT = 60.0  # bound on waits for a container to answer or turn healthy (not a speed target)


def case(app_kind: str, runtime_base: str, **answers: Any) -> Any:
    """One build: the defaults, overridden by answers; its id names what is special,
    and names the service too, so every case has an image name of its own."""
    full = {"app_kind": app_kind, "runtime_base": runtime_base, "upx": False, "ca_certificates": True,
            "tzdata": "embedded", "healthcheck": True, "run_as_uid": "65532", **answers}
    parts = [app_kind, runtime_base]
    if full["upx"]:
        parts.append(f"upx_{full['upx_level']}")
    if runtime_base == "scratch":
        parts.append("ca" if full["ca_certificates"] else "noca")
    parts.append(f"tz_{full['tzdata']}")
    if app_kind == "http":
        parts.append("hc" if full["healthcheck"] else "nohc")
    parts.append(f"uid{full['run_as_uid']}")
    case_id = "-".join(parts)
    full["project_name"] = f"E2e {case_id}"
    return pytest.param(full, id=case_id)


# Every runtime_base x app_kind; between them every tzdata choice, the CA bundle on and
# off, healthcheck on and off, a packed binary, and uids other than the default.
CASES = [
    case("http", "scratch"),
    case("http", "scratch", upx=True, upx_level="fast", tzdata="files"),
    case("http", "distroless", tzdata="files", run_as_uid="10001"),
    case("http", "alpine", tzdata="none", healthcheck=False),
    case("cli", "scratch", ca_certificates=False, tzdata="none"),
    case("cli", "distroless"),
    case("cli", "alpine", tzdata="files", run_as_uid="4242"),
]
HTTP_CASES = [c for c in CASES if c.values[0]["app_kind"] == "http"]
CLI_CASES = [c for c in CASES if c.values[0]["app_kind"] == "cli"]
SCRATCH_HTTP = CASES[0]


@dataclass
class Built:
    answers: dict[str, Any]
    project: Path
    tag: str
    slug: str
    files: dict[str, tarfile.TarInfo]  # the image's file system: path -> entry
    export: Path  # the exported file system as a tar

    @property
    def binary(self) -> str:
        return f"usr/local/bin/{self.slug}"


def stamped_build(docker: str, project: Path, args: dict[str, str], *options: str) -> None:
    """docker_build with this file's VERSION and COMMIT stamped into the binary."""
    docker_build(docker, project, {"VERSION": VERSION, "COMMIT": COMMIT, **args}, *options, timeout=1800)


def plant_secrets(project: Path) -> None:
    """What a real checkout holds beside the code: these must never reach an image."""
    (project / ".env").write_text(f"API_TOKEN={SECRET}\n")
    run(["git", "init", "-q"], cwd=project)
    (project / ".git" / "secret-note").write_text(SECRET + "\n")


def image_files(docker: str, tag: str, dest: Path) -> tuple[dict[str, tarfile.TarInfo], Path]:
    """The image's file system, through `docker create` + `docker export`."""
    name = f"e2e-export-{uuid.uuid4().hex[:8]}"
    run([docker, "create", "--name", name, tag], cwd=dest.parent)
    try:
        with dest.open("wb") as out:
            subprocess.run([docker, "export", name], stdout=out, check=True, timeout=300)
    finally:
        subprocess.run([docker, "rm", "-f", name], capture_output=True, check=False)
    with tarfile.open(dest) as tar:
        return {m.name.removeprefix("./").rstrip("/"): m for m in tar.getmembers()}, dest


@pytest.fixture(scope="session")
def built(docker: str, standin_images: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[dict[str, Any]], Built]]:
    """Build each case once per session (by its answers); remove the images afterwards."""
    cache: dict[str, Built] = {}
    failures: dict[str, str] = {}  # a case that failed to build fails every test of it, built once
    tags: list[str] = []
    session = uuid.uuid4().hex[:8]

    def get(answers: dict[str, Any]) -> Built:
        key = json.dumps(answers, sort_keys=True)
        if key in failures:
            pytest.fail(failures[key])
        if key not in cache:
            root = tmp_path_factory.mktemp("e2e")
            project = copier_generate(root / "service", answers)
            plant_secrets(project)
            slug = st.service_slug(answers["project_name"])
            tag = f"e2e-{slug}-{session}:{VERSION}"
            tags.append(tag)
            try:
                stamped_build(docker, project, build_args(standin_images, answers["runtime_base"]), "-t", tag)
                files, export = image_files(docker, tag, root / "fs.tar")
            except AssertionError as exc:
                failures[key] = f"building {slug} failed: {exc}"
                raise
            cache[key] = Built(answers, project, tag, slug, files, export)
        return cache[key]

    yield get
    for tag in tags:
        subprocess.run([docker, "rmi", "-f", tag], capture_output=True, timeout=120, check=False)


def inspect(docker: str, ref: str, template: str) -> str:
    return run([docker, "inspect", "--format", template, ref], cwd=Path.cwd()).stdout.strip()


@pytest.fixture
def container(docker: str) -> Iterator[Callable[..., str]]:
    """Start detached containers; each is removed after the test."""
    names: list[str] = []

    def start(*argv: str) -> str:
        name = f"e2e-{uuid.uuid4().hex[:10]}"
        names.append(name)
        run([docker, "run", "-d", "--name", name, *argv], cwd=Path.cwd())
        return name

    yield start
    for name in names:
        subprocess.run([docker, "rm", "-f", name], capture_output=True, check=False)


# -- every image -------------------------------------------------------------------


@pytest.mark.parametrize("answers", CASES)
def test_image_runs_as_the_chosen_non_root_uid(answers: dict[str, Any], built: Callable[..., Built], docker: str) -> None:
    image = built(answers)
    uid = answers["run_as_uid"]
    assert uid != "0"
    assert inspect(docker, image.tag, "{{.Config.User}}") == f"{uid}:{uid}"
    assert inspect(docker, image.tag, "{{.Config.Entrypoint}}") == f"[/{image.binary}]"


@pytest.mark.parametrize("answers", CASES)
def test_ca_bundle_is_there_exactly_when_asked(answers: dict[str, Any], built: Callable[..., Built]) -> None:
    image = built(answers)
    assert ("etc/ssl/certs/ca-certificates.crt" in image.files) == st.has_ca_bundle(answers)


@pytest.mark.parametrize("answers", CASES)
def test_time_zone_files_follow_the_tzdata_answer(answers: dict[str, Any], built: Callable[..., Built], docker: str) -> None:
    image = built(answers)
    env = inspect(docker, image.tag, "{{json .Config.Env}}")
    copied = answers["tzdata"] == "files" and answers["runtime_base"] != "distroless"
    assert ("ZONEINFO=/usr/share/zoneinfo" in env) == copied
    # distroless brings the system's zoneinfo; scratch and alpine carry none of their own.
    has_zones = copied or answers["runtime_base"] == "distroless"
    assert ("usr/share/zoneinfo/Europe/Berlin" in image.files) == has_zones
    if answers["tzdata"] == "embedded":  # in the binary instead: -tags timetzdata
        assert "-tags=timetzdata" in (image.project / "Dockerfile").read_text()


@pytest.mark.parametrize("answers", CASES)
def test_dotenv_and_git_never_reach_the_image(answers: dict[str, Any], built: Callable[..., Built]) -> None:
    image = built(answers)
    leaked = [path for path in image.files if re.search(r"(^|/)(\.env|\.git)(/|$)", path) or path.endswith("_test.go")]
    assert leaked == []
    assert SECRET.encode() not in image.export.read_bytes(), "the secret's text is somewhere in the image"


@pytest.mark.parametrize("answers", CASES)
def test_binary_is_static_and_carries_the_version_labels(answers: dict[str, Any], built: Callable[..., Built], docker: str) -> None:

    image = built(answers)
    with tarfile.open(image.export) as tar:
        member = tar.extractfile(image.binary)
        assert member is not None
        head = member.read(4096)
    assert elf_is_static(head)
    assert (b"UPX!" in head) == st.uses_upx(answers), "UPX packing does not follow the answer"
    assert inspect(docker, image.tag, '{{index .Config.Labels "org.opencontainers.image.version"}}') == VERSION
    assert inspect(docker, image.tag, '{{index .Config.Labels "org.opencontainers.image.revision"}}') == COMMIT


# -- http ---------------------------------------------------------------------------


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.status, resp.read().decode()


def health_status(docker: str, name: str) -> str:
    return inspect(docker, name, "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}")


def process_uids(docker: str, name: str) -> set[str]:
    """The real uids of the container's processes, as the host sees them."""
    table = run([docker, "top", name, "-o", "pid,uid"], cwd=Path.cwd()).stdout.splitlines()[1:]
    return {line.split()[1] for line in table if line.strip()}


@pytest.mark.parametrize("answers", HTTP_CASES)
def test_http_service_answers_runs_as_its_uid_and_turns_healthy(
    answers: dict[str, Any], built: Callable[..., Built], docker: str, container: Callable[..., str]
) -> None:
    image = built(answers)
    port = free_port()
    # --health-interval only speeds up the probe; the image's own HEALTHCHECK command runs.
    name = container("--network", "host", "-e", f"PORT={port}", "-e", f"TZ={BERLIN}", "--health-interval=1s", image.tag)

    assert wait_for_200(f"http://127.0.0.1:{port}/healthz", WAIT) is not None, run([docker, "logs", name], cwd=Path.cwd()).stderr
    status, body = get(f"http://127.0.0.1:{port}/")
    assert status == 200 and image.slug in body
    assert process_uids(docker, name) == {answers["run_as_uid"]}

    if st.has_healthcheck(answers):
        deadline = time.monotonic() + WAIT
        while (health := health_status(docker, name)) != "healthy" and time.monotonic() < deadline:
            assert health in {"starting", "healthy"}, f"HEALTHCHECK reports {health}"
            time.sleep(0.5)
        assert health == "healthy"
        healthcheck = json.loads(inspect(docker, image.tag, "{{json .Config.Healthcheck.Test}}"))
        assert healthcheck == ["CMD", f"/{image.binary}", "-healthcheck"], "the probe must need no shell"
    else:
        assert health_status(docker, name) == "none"


@pytest.mark.parametrize("answers", HTTP_CASES)
def test_tz_europe_berlin_resolves_when_the_image_has_time_zone_data(
    answers: dict[str, Any], built: Callable[..., Built], docker: str, container: Callable[..., str]
) -> None:
    """The service's own JSON logs stamp local time: with TZ=Europe/Berlin, +01:00 or +02:00
    when the zone loads; Go falls back to UTC ("Z") when it cannot find the zone."""
    image = built(answers)
    port = free_port()
    name = container("--network", "host", "-e", f"PORT={port}", "-e", f"TZ={BERLIN}", image.tag)
    assert wait_for_200(f"http://127.0.0.1:{port}/healthz", WAIT) is not None
    logs = run([docker, "logs", name], cwd=Path.cwd()).stdout
    first = json.loads(logs.splitlines()[0])
    resolves = answers["tzdata"] != "none" or answers["runtime_base"] == "distroless"
    offset = re.search(r"(Z|[+-]\d\d:\d\d)$", first["time"]).group(1)
    if resolves:
        assert offset in {"+01:00", "+02:00"}, f"{BERLIN} did not load: {first['time']}"
    else:
        assert offset == "Z", f"tzdata=none, yet a zone loaded: {first['time']}"


@pytest.mark.parametrize("answers", HTTP_CASES)
def test_rolling_deploy_of_the_container_loses_no_request_and_logs_each(
    answers: dict[str, Any], built: Callable[..., Built], docker: str, container: Callable[..., str]
) -> None:
    """test_shutdown.py's load-and-drain, against the image: `docker kill --signal TERM`
    is what an orchestrator sends. Its control (no delay) runs against the binary there."""
    image = built(answers)
    port = free_port()
    name = container("--network", "host", "-e", f"PORT={port}", "-e", "SHUTDOWN_DELAY=3s", "-e", "SHUTDOWN_TIMEOUT=5s",
                     image.tag)
    assert wait_for_200(f"http://127.0.0.1:{port}/readyz", WAIT) is not None
    result = load_and_drain(port, lambda: run([docker, "kill", "--signal", "TERM", name], cwd=Path.cwd()),
                            f"Hello from {image.slug}\n".encode())
    print(f"\n{image.slug}: {result.report()}")
    assert result.lost == 0 and result.counts["ok"] > 0, result.report()
    assert run([docker, "wait", name], cwd=Path.cwd(), timeout=3 + 5 + WAIT).stdout.strip() == "0"
    logged = [json.loads(line) for line in run([docker, "logs", name], cwd=Path.cwd()).stdout.splitlines()]
    served = [line for line in logged if line.get("msg") == "request" and line.get("path") == "/"]
    assert len(served) == result.counts["ok"], "each request served logs exactly one line"
    assert len({line["request_id"] for line in served}) == len(served)


# -- cli ----------------------------------------------------------------------------


@pytest.mark.parametrize("answers", CLI_CASES)
def test_cli_prints_its_version(answers: dict[str, Any], built: Callable[..., Built], docker: str) -> None:
    image = built(answers)
    name = f"e2e-{uuid.uuid4().hex[:10]}"
    output = run([docker, "run", "--rm", "--name", name, "--network", "host", image.tag, "-version"], cwd=Path.cwd()).stdout
    assert output.strip() == f"{image.slug} {VERSION} ({COMMIT})"


# -- scratch: nothing wasted; cross builds ----------------------------------------------


@pytest.mark.parametrize("answers", CLI_CASES[:1])
def test_cli_container_interrupted_exits_130(answers: dict[str, Any], built: Callable[..., Built], docker: str,
                                              container: Callable[..., str]) -> None:
    image = built(answers)
    name = container(image.tag, "-wait", "1h", "-v")
    deadline = time.monotonic() + WAIT
    while "greeting" not in run([docker, "logs", name], cwd=Path.cwd()).stderr:  # the work has begun
        assert time.monotonic() < deadline, "the tool never started its work"
        time.sleep(0.2)
    run([docker, "kill", "--signal", "INT", name], cwd=Path.cwd())
    assert run([docker, "wait", name], cwd=Path.cwd(), timeout=WAIT).stdout.strip() == "130"


@pytest.mark.parametrize("answers", [c for c in CASES if c.values[0]["runtime_base"] == "scratch"])
def test_scratch_image_holds_nothing_but_what_it_needs(answers: dict[str, Any], built: Callable[..., Built], docker: str) -> None:
    image = built(answers)
    # `docker export` adds the container's own mount points and files.
    runtime_added = {".dockerenv", "dev", "proc", "sys", "etc/hostname", "etc/hosts", "etc/resolv.conf", "etc/mtab"}
    regular = {path for path, entry in image.files.items()
               if entry.isfile() and path not in runtime_added and not path.startswith(("dev/", "proc/", "sys/"))}
    expected = {image.binary, "etc/passwd", "etc/group"}
    if st.has_ca_bundle(answers):
        expected.add("etc/ssl/certs/ca-certificates.crt")
    if answers["tzdata"] == "files":
        expected |= {path for path in regular if path.startswith("usr/share/zoneinfo/")}
        assert "usr/share/zoneinfo/Europe/Berlin" in expected
    assert regular == expected
    uid = answers["run_as_uid"]
    with tarfile.open(image.export) as tar:
        passwd = tar.extractfile("etc/passwd").read().decode()  # type: ignore[union-attr]
    assert f":x:{uid}:{uid}:" in passwd

    payload = sum(image.files[path].size for path in expected)
    size = int(inspect(docker, image.tag, "{{.Size}}"))
    assert abs(size - payload) <= 0.05 * payload, f"image {size} B vs its files {payload} B"


def test_scratch_cross_build_for_arm64_yields_an_aarch64_binary(
    built: Callable[..., Built], docker: str, standin_images: dict[str, str], tmp_path: Path
) -> None:
    """BuildKit runs the builder on the machine's platform and cross-compiles: no emulation."""
    answers = SCRATCH_HTTP.values[0]
    image = built(answers)
    out = tmp_path / "rootfs"
    stamped_build(docker, image.project, build_args(standin_images, "scratch"),
                  "--platform", "linux/arm64", "--output", f"type=local,dest={out}")
    e_machine = elf_machine((out / image.binary).read_bytes()[:64])
    assert e_machine == 183, f"e_machine {e_machine}, want 183 (EM_AARCH64)"


def test_image_sizes_report(built: Callable[..., Built], docker: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Not an assertion on speed or size: the numbers docs/ quote, printed with -s."""
    rows = []
    for param in CASES:
        image = built(param.values[0])
        rows.append(f"{param.id:<48} {int(inspect(docker, image.tag, '{{.Size}}')) / 1e6:6.2f} MB")
    with capsys.disabled():
        print("\n" + "\n".join(rows))

