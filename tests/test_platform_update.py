"""Services made before internal/platform, and the platform's fixes reaching services.

A service made before this release has its whole server in its own main.go, which
updates never touch. Its update to this release must add the package and break
nothing: main.go byte for byte as the team left it, `make check build`, its
`-version`, `make verify` with Docker, and one line pointing at the migration guide.

The control for test_update.py's platform fix (copier) and test_cruft.py's (cruft):
in the layout before the package, the same fix, made where the code then lived
(main.go), never reaches the service.

Template releases are throwaway git repos: PRE_PLATFORM (main's last commit with the
server in main.go, from this repository's history) and this working tree.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import service_template as st
from conftest import (
    IN_CI,
    NOT_IN_A_RELEASE,
    ROOT,
    build_args,
    commit_all,
    copy,
    git,
    need,
    run,
    template_release,
    update,
)

copier = pytest.importorskip("copier")

PRE_PLATFORM = "3841e3f0f8131093f2c1700d62cd7159d14ec808"
SLUG = "hello-service"
# The team's edit of its old main.go: a route of its own, using the old main.go's names.
OLD_ROUTES_ANCHOR = "\treturn s.everyRequest(mux)\n"
TEAM_ROUTE = '\tmux.HandleFunc("GET /version", func(w http.ResponseWriter, r *http.Request) {\n\t\tfmt.Fprintln(w, version)\n\t})\n'
# The fix a later release makes, in the old layout: where the middleware then lived.
OLD_FIX_ANCHOR = "\t\tr.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)\n"
FIX = '\t\tw.Header().Set("X-Content-Type-Options", "nosniff") // v2\n'


def pre_platform_tree(dst: Path) -> None:
    """The template as it was at PRE_PLATFORM, unpacked from this repository's history."""
    archive = subprocess.run(["git", "archive", "--format=tar", PRE_PLATFORM], cwd=ROOT, capture_output=True)
    if archive.returncode != 0:
        message = f"commit {PRE_PLATFORM[:7]} is not in this clone (a shallow clone?): `git fetch --unshallow`"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    dst.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(dst, filter="data")
    for folder in ("tests", "benchmarks"):
        shutil.rmtree(dst / folder, ignore_errors=True)


def made_before(tmp_path: Path, next_release: str) -> tuple[Path, Path]:
    """(template repo, service): the service made at v1.0.0 (PRE_PLATFORM), with the team's
    route in main.go and a file of its own, committed. v2.0.0 is `next_release`: "this"
    (the working tree) or "old-layout-fix" (PRE_PLATFORM with FIX in main.go)."""
    repo = tmp_path / "template"
    pre_platform_tree(repo)
    git(repo, "init", "-q", "-b", "main")
    template_release(repo, "v1.0.0")
    if next_release == "this":
        for child in repo.iterdir():
            if child.name != ".git":
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        shutil.copytree(ROOT, repo, ignore=NOT_IN_A_RELEASE, dirs_exist_ok=True)
    else:
        main_go = repo / "{{cookiecutter.project_slug}}" / "main.go"
        text = main_go.read_text()
        assert text.count(OLD_FIX_ANCHOR) == 1
        main_go.write_text(text.replace(OLD_FIX_ANCHOR, OLD_FIX_ANCHOR + FIX))
    template_release(repo, "v2.0.0")

    service = tmp_path / "service"
    copy(repo, service, "v1.0.0")
    assert not (service / "internal").exists() and "func (s *server) serve(" in (service / "main.go").read_text()
    git(service, "init", "-q", "-b", "main")
    commit_all(service, "generated")
    main_go = service / "main.go"
    text = main_go.read_text()
    assert text.count(OLD_ROUTES_ANCHOR) == 1
    main_go.write_text(text.replace(OLD_ROUTES_ANCHOR, TEAM_ROUTE + OLD_ROUTES_ANCHOR))
    (service / "docs").mkdir()
    (service / "docs" / "runbook.md").write_text("Page the payments team.\n")
    commit_all(service, "team: /version, runbook")
    return repo, service


def test_a_service_made_before_the_platform_updates_cleanly_and_keeps_its_server(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    _, service = made_before(tmp_path, "this")
    team = {name: (service / name).read_bytes() for name in ("main.go", "main_test.go", "README.md", "docs/runbook.md")}
    capfd.readouterr()
    update(service, "v2.0.0")
    out = capfd.readouterr().out

    # One line says what to do next, and where the guide is.
    hints = [line for line in out.splitlines() if "platform-migration.md" in line]
    assert len(hints) == 1 and "main.go still runs its own server" in hints[0], out
    for name, content in team.items():
        assert (service / name).read_bytes() == content, f"the update changed the team's {name}"
    platform = [path for path in st.template_owned_files({"app_kind": "http", "ci_provider": "github"})
                if path.startswith("internal/platform/")]
    assert sorted(p.name for p in (service / "internal" / "platform").glob("*.go")) == sorted(
        Path(path).name for path in platform) and len(platform) > 5
    assert "UU" not in git(service, "status", "--porcelain")
    git(service, "add", "-A")
    git(service, "diff", "--cached", "--check")  # no conflict markers anywhere

    # It builds and passes its checks, old main.go and new package side by side, and the
    # old main.go's -version still gets the version (the link flags set main.version too).
    need("go", "the updated service's checks and build")
    run(["make", "check", "build", "VERSION=1.2.3", "COMMIT=abc1234"], cwd=service, timeout=600,
        env={"GOTOOLCHAIN": "local", "GOPROXY": "off"})
    version = run([str(service / "bin" / SLUG), "-version"], cwd=service).stdout
    assert version == f"{SLUG} 1.2.3 (abc1234)\n"

    # After the switch (the migration guide's main.go), no hint.
    (service / "main.go").write_text(
        f'package main\n\nimport "github.com/example/{SLUG}/internal/platform"\n\n'
        "func main() { platform.Main(nil) }\n")
    hint = run([sys.executable, str(ROOT / "hooks" / "migrations.py"), "platform-hint", ".copier-answers.yml"],
               cwd=service)
    assert hint.stdout == ""


def test_control_in_the_old_layout_a_later_fix_never_reaches_the_service(tmp_path: Path) -> None:
    """The same fix test_update.py's platform release makes, made in main.go where the code
    lived before the package: the team's main.go is skipped on update, so it never arrives."""
    repo, service = made_before(tmp_path, "old-layout-fix")
    update(service, "v2.0.0")
    assert git(repo, "show", "v2.0.0:{{cookiecutter.project_slug}}/main.go").count(FIX) == 1
    main_go = (service / "main.go").read_text()
    assert FIX not in main_go, "main.go received the fix: the control no longer shows the layout's limit"
    assert TEAM_ROUTE in main_go
    assert not (service / "internal").exists()


@pytest.mark.slow
def test_a_service_made_before_the_platform_still_verifies_after_the_update(
    tmp_path: Path, docker: str, standin_images: dict[str, str]
) -> None:
    _, service = made_before(tmp_path, "this")
    update(service, "v2.0.0")
    commit_all(service, "update to the platform release")
    env = {"DOCKER": docker, "VERIFY_DOCKER_NETWORK": "host", "VERIFY": "strict", **build_args(standin_images, "scratch")}
    verified = run(["make", "verify"], cwd=service, env=env, timeout=1500)
    assert re.search(r"^verify: .*: verified$", verified.stdout, re.M), verified.stdout
    assert "-healthcheck` inside the container passed" in verified.stdout, verified.stdout
