"""Adoption (scripts/adopt.sh): an existing Go service comes under the template and
loses none of its lines.

The service has its own go.mod (require and replace lines), Dockerfile, Makefile,
.gitignore, package main at the root and an extra package folder. adopt.sh renders
the template as a commit of its own and merges it with --allow-unrelated-histories:
- every file both sides have is a conflict, with every original line still there;
- the template's main.go and main_test.go are not brought in (the team's main stays
  the only one, and the template's tests would not compile against it);
- after the team resolves the conflicts, the service verifies, and a later
  `copier update` brings a template improvement as for any generated service.
The control: `copier copy --overwrite` over the same service loses the team's lines.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import (
    GIT_IDENTITY,
    ROOT,
    commit_all,
    edit,
    git,
    need,
    replace_once,
    run,
    template_release,
    template_repo,
    update,
)

copier = pytest.importorskip("copier")

ADOPT = ROOT / "scripts" / "adopt.sh"
MODULE = "github.com/acme/legacy"
TEAM_FILES = {
    "go.mod": f"module {MODULE}\n\ngo 1.27\n\nrequire example.com/unused v1.2.3\n\n"
    "replace example.com/unused => ./third_party/unused\n",
    "third_party/unused/go.mod": "module example.com/unused\n\ngo 1.22\n",
    "third_party/unused/unused.go": "package unused\n\nconst X = 1\n",
    "main.go": (
        "package main\n\nimport (\n\t\"fmt\"\n\t\"net/http\"\n\n\t\"github.com/acme/legacy/internal/store\"\n)\n\n"
        "func main() {\n"
        "\thttp.HandleFunc(\"/\", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, store.Name()) })\n"
        "\t_ = http.ListenAndServe(\":8080\", nil)\n}\n"
    ),
    "internal/store/store.go": "package store\n\n// Name is the team's own store.\nfunc Name() string { return \"legacy store\" }\n",
    "Dockerfile": "FROM golang:1.27\nWORKDIR /app\nCOPY . .\nRUN go build -o /legacy .\nCMD [\"/legacy\"]\n",
    "Makefile": "deploy: ## the team's own target\n\techo deploying legacy\n",
    ".gitignore": "/legacy\n*.log\n",
}
OVERLAPPING = {"go.mod", "Dockerfile", "Makefile", ".gitignore"}
IMPROVEMENT = "# An improvement in release 2.0.0."


def legacy_service(folder: Path) -> Path:
    for name, text in TEAM_FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    git(folder, "init", "-q", "-b", "main")
    commit_all(folder, "The team's service, before the template")
    return folder


@pytest.fixture
def released_template(tmp_path: Path) -> Path:
    repo = template_repo(tmp_path / "template")
    template_release(repo, "v1.0.0", "release 1.0.0")
    return repo


def adopt(service: Path, template: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **GIT_IDENTITY, "TEMPLATE": str(template)}
    return subprocess.run(["bash", str(ADOPT), str(service)], capture_output=True, text=True, timeout=600, env=env)


def test_adoption_keeps_every_line_and_marks_every_overlap(released_template: Path, tmp_path: Path) -> None:
    service = legacy_service(tmp_path / "legacy")
    proc = adopt(service, released_template)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    conflicted = set(git(service, "diff", "--name-only", "--diff-filter=U").split())
    assert conflicted == OVERLAPPING, proc.stdout
    for name, text in TEAM_FILES.items():
        merged = (service / name).read_text()
        missing = [line for line in text.splitlines() if line not in merged.splitlines()]
        assert not missing, f"{name} lost {missing}"
        if name in OVERLAPPING:
            assert "<<<<<<< HEAD" in merged and ">>>>>>> refs/adopt/template" in merged, name
        else:
            assert merged == text, f"{name} was changed"
    assert not (service / "main_test.go").exists(), "the template's tests would not compile against the team's main.go"
    assert (service / ".copier-answers.yml").exists() and (service / "scripts" / "verify.sh").exists()
    answers = (service / ".copier-answers.yml").read_text()
    assert f"module_path: {MODULE}" in answers and "main_package: ." in answers


def test_the_control_copier_copy_overwrite_loses_the_teams_lines(released_template: Path, tmp_path: Path) -> None:
    service = legacy_service(tmp_path / "legacy")
    from plumbum import local

    with local.env(VERIFY="off", **GIT_IDENTITY):
        copier.run_copy(str(released_template), str(service), data={"module_path": MODULE}, defaults=True,
                        overwrite=True, unsafe=True, quiet=True, vcs_ref="v1.0.0")
    lost = [name for name in OVERLAPPING
            if not set(TEAM_FILES[name].splitlines()) <= set((service / name).read_text().splitlines())]
    assert {"go.mod", "Dockerfile", "Makefile"} <= set(lost), f"copier copy --overwrite kept everything? lost only {lost}"


def resolve(service: Path) -> None:
    """What a team would do: keep their go.mod and .gitignore lines, take the template's
    Dockerfile, keep both Makefiles' targets."""
    def side(name: str, stage: int) -> str:
        return git(service, "show", f":{stage}:{name}")

    ours, theirs = 2, 3
    (service / "go.mod").write_text(side("go.mod", ours))
    (service / "Dockerfile").write_text(side("Dockerfile", theirs))
    (service / "Makefile").write_text(side("Makefile", theirs) + "\n" + side("Makefile", ours))
    (service / ".gitignore").write_text(side(".gitignore", theirs) + side(".gitignore", ours))
    # The build context must hold the replaced module (a team with a replace line adds this).
    edit(service / ".dockerignore", replace_once("!pkg/\n", "!pkg/\n!third_party/\n"))
    git(service, "add", "-A")
    git(service, "commit", "-q", "-m", "Adopt the minimal-go-service template")


def test_an_adopted_service_verifies_and_updates_like_a_generated_one(released_template: Path, tmp_path: Path) -> None:
    need("go", "the adopted service's checks")
    need("make", "the adopted service's make verify")
    service = legacy_service(tmp_path / "legacy")
    assert adopt(service, released_template).returncode == 0
    resolve(service)

    # No Docker here: the Makefile's own checks run on the host (the Docker path is the e2e tests' job).
    # The verification lints the team's code too: the legacy server has no timeouts.
    no_docker = {"DOCKER": "/nonexistent/docker"}
    lint = subprocess.run(["make", "verify"], cwd=service, capture_output=True, text=True, timeout=900,
                          env={**os.environ, **no_docker})  # fmt: skip
    assert lint.returncode != 0 and "[FAIL] lint" in lint.stdout, lint.stdout
    assert "main.go:12:6: G114" in lint.stdout and "[ ok ] go checks" in lint.stdout, lint.stdout
    # The team's fix, as golangci-lint asks for it: a server with a header timeout.
    edit(service / "main.go", replace_once(
        '\t_ = http.ListenAndServe(":8080", nil)\n',
        '\tserver := &http.Server{Addr: ":8080", ReadHeaderTimeout: 10 * time.Second}\n\t_ = server.ListenAndServe()\n'))
    edit(service / "main.go", replace_once('"net/http"\n', '"net/http"\n\t"time"\n'))
    git(service, "commit", "-q", "-am", "A header timeout, as the lint asked")
    proc = run(["make", "verify"], cwd=service, timeout=900, env=no_docker)
    assert "0 failed" in proc.stdout and "[ ok ] go checks" in proc.stdout and "[ ok ] lint" in proc.stdout, proc.stdout

    edit(released_template / "{{cookiecutter.project_slug}}" / "Dockerfile",
         replace_once("ARG GO_IMAGE=", f"{IMPROVEMENT}\nARG GO_IMAGE="))
    template_release(released_template, "v2.0.0", "release 2.0.0")
    update(service, "v2.0.0")

    assert IMPROVEMENT in (service / "Dockerfile").read_text(), "the release's improvement did not arrive"
    for name in ("go.mod", "Makefile", ".gitignore", "internal/store/store.go"):
        text = (service / name).read_text()
        missing = [line for line in TEAM_FILES[name].splitlines() if line not in text.splitlines()]
        assert not missing, f"the update lost {missing} from {name}"
    assert "ReadHeaderTimeout: 10 * time.Second" in (service / "main.go").read_text(), "the update touched main.go"
    assert not (service / "main_test.go").exists()
