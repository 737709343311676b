"""The service's platform package (internal/platform) as the template ships it.

- its Go files are plain Go in the template tree (no Jinja, gofmt-clean as they stand),
  all but the one generated file of answers, and render to themselves;
- the team's main.go stays short, and its tests cover the sample routes only;
- what the template-owned files rely on (the `-X` target, `-version`, `-healthcheck`)
  is the platform's: a main.go of the team's own, which knows nothing of them, still
  gets the version, the probe and the settings' errors. Control: a main.go that does
  not call the platform gets none of them.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

import service_template as st
from conftest import ROOT, copier_generate, free_port, gofmt_bin, need, run, wait_for_200

TEMPLATE_PLATFORM = ROOT / "{{cookiecutter.project_slug}}" / "internal" / "platform"
GENERATED_FILE = "answers.go"  # the one file the template renders: the answers the package needs
JINJA = ("{{", "{%", "{#")
MAIN_GO_MAX_LINES = {"http": 40, "cli": 50}
GO_ENV = {"GOTOOLCHAIN": "local", "GOPROXY": "off"}


def rendered_name(template_name: str) -> str:
    """A conditional file name's file: `{% if ... %}server.go{% endif %}` -> server.go."""
    return re.sub(r"\{%.*?%\}", "", template_name)


def test_the_platform_files_are_plain_go_in_the_template_tree() -> None:
    plain = [p for p in TEMPLATE_PLATFORM.iterdir() if rendered_name(p.name) != GENERATED_FILE]
    assert len(plain) >= 8
    for path in plain:
        text = path.read_text()
        assert not any(marker in text for marker in JINJA), f"{path.name} holds Jinja: keep it plain Go"
    unformatted = run([gofmt_bin(), "-l", *map(str, plain)], cwd=ROOT).stdout
    assert unformatted == "", f"not gofmt-clean as they stand: {unformatted}"
    # Every file the template lists as the platform's is one of these, or the answers.
    listed = {path for path in st.TEMPLATE_OWNED if path.startswith(st.PLATFORM_PACKAGE + "/")}
    assert listed == {f"{st.PLATFORM_PACKAGE}/{rendered_name(p.name)}" for p in TEMPLATE_PLATFORM.iterdir()}


@pytest.mark.parametrize("app_kind", ["http", "cli"])
def test_a_services_platform_is_the_template_files_as_they_are(app_kind: str, tmp_path: Path) -> None:
    service = copier_generate(tmp_path / "service", {"app_kind": app_kind})
    for template in TEMPLATE_PLATFORM.iterdir():
        name = rendered_name(template.name)
        generated = service / st.PLATFORM_PACKAGE / name
        if name == GENERATED_FILE or not generated.exists():
            continue
        assert generated.read_text() == template.read_text(), f"{name} is changed by rendering"
    main_go = (service / "main.go").read_text()
    lines = len(main_go.splitlines())
    assert lines <= MAIN_GO_MAX_LINES[app_kind], f"main.go is {lines} lines"
    assert "/internal/platform\"" in main_go


TEAM_MAIN = """package main

import (
	"net/http"

	"github.com/example/hello-service/internal/platform"
)

// A team's own main.go: nothing of -version, -healthcheck or the build's -X flags.
func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ours\\n")) })
	platform.Main(mux)
}
"""
# The control: its own server (on a loopback port of the kernel's choosing), the platform
# imported but not run.
CONTROL_MAIN = TEAM_MAIN.replace("\tplatform.Main(mux)\n", '\t_ = platform.Name\n\thttp.ListenAndServe("127.0.0.1:0", mux)\n')


@pytest.mark.parametrize("main_go, platform_runs", [(TEAM_MAIN, True), (CONTROL_MAIN, False)],
                         ids=["team-main-calls-platform", "control-main-without-it"])
def test_version_probe_and_settings_need_only_the_platform(main_go: str, platform_runs: bool, tmp_path: Path) -> None:
    need("go", "builds the service")
    service = copier_generate(tmp_path / "service", {"app_kind": "http"})
    (service / "main.go").write_text(main_go)
    (service / "main_test.go").unlink()
    run(["make", "build", "VERSION=4.5.6", "COMMIT=fedcba9"], cwd=service, timeout=600, env=GO_ENV)
    binary = str(service / "bin" / "hello-service")
    port = free_port()
    if platform_runs:
        assert run([binary, "-version"], cwd=service).stdout == "hello-service 4.5.6 (fedcba9)\n"
        bad = subprocess.run([binary], env={"SHUTDOWN_DELAY": "5"}, capture_output=True, text=True, timeout=30)
        assert (bad.returncode, bad.stderr) == (2, 'SHUTDOWN_DELAY: use a duration such as 5s or 0 (got "5")\n')
        server = subprocess.Popen([binary], env={"PORT": str(port)}, stdout=subprocess.DEVNULL)
    else:
        server = subprocess.Popen([binary, "-version"], stdout=subprocess.PIPE, text=True)
        with pytest.raises(subprocess.TimeoutExpired):  # -version means nothing to it: it serves on
            server.wait(timeout=2)
    try:
        if platform_runs:
            assert wait_for_200(f"http://127.0.0.1:{port}/healthz", 30) is not None
            assert run([binary, "-healthcheck"], cwd=service, env={"PORT": str(port)}).returncode == 0
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_platform_tests_run_with_the_service_checks(tmp_path: Path) -> None:
    """go-checks.sh (make check, the Dockerfile's checks stage) runs ./..., which holds them."""
    need("go", "lists the service's tests")
    service = copier_generate(tmp_path / "service", {"app_kind": "http"})
    listed = run(["go", "test", "-list", ".", "./..."], cwd=service, env=GO_ENV).stdout
    assert "TestRoutes" in listed and "TestDrainDelay" in listed and "TestAccessLog" in listed
    assert "go test -vet=off ./..." in (service / "scripts" / "go-checks.sh").read_text()  # vet: in the lint


# What the platform may add to a request, in heap allocations: the new request ID and
# the one-element header value that holds it. Allocations are counted, not timed: the
# same on every machine (requests/s is the benchmark's: docs/benchmarks.md).
PLATFORM_ALLOCS_PER_REQUEST = 2


def test_the_platform_adds_at_most_two_allocations_per_request(tmp_path: Path) -> None:
    """The service's own Go benchmark (BenchmarkEveryRequest) runs, and the platform's
    per-request work allocates only the request ID over what the bare handler does."""
    need("go", "runs the platform's benchmark")
    service = copier_generate(tmp_path / "service", {"app_kind": "http"})
    out = run(["go", "test", "-run", "^$", "-bench", "EveryRequest", "-benchtime", "2000x", "./internal/platform"],
              cwd=service, env=GO_ENV).stdout
    allocs = {name: int(n) for name, n in re.findall(r"^BenchmarkEveryRequest/(\w+)\S*\s.*?(\d+) allocs/op", out, re.M)}
    assert set(allocs) == {"bare", "platform"}, out
    assert allocs["platform"] - allocs["bare"] <= PLATFORM_ALLOCS_PER_REQUEST, out
