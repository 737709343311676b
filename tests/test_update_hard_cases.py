"""Updates that go wrong in practice, and the protections that stop each loss.

Every protection is tested twice: once as released, and once in a CONTROL release of
the throwaway template repo with that protection taken out, where the loss happens.
A control that stopped failing would mean the test no longer tests anything.

1. A file a release stops shipping (renovate.json) stays, with the team's edit and a
   "kept ..." line (the keep-removed migration). Control: copier deletes it.
2. main_package: a service created with main_package=./cmd/NAME builds from there;
   a team that moved main.go to cmd/app gets its update refused until it says so
   (check-main-package), and with --data main_package=./cmd/app no root main.go comes
   back (`_exclude`), so its own package builds. Controls: without the check and the
   exclusions the template's root main.go comes back and builds instead of the team's;
   without the exclusions alone it comes back beside main_package; without the check
   alone the update goes through with the answer still `.`, and `make build` fails.
3. app_kind cannot change on update (main.go is the team's). Control: with a plain
   validator the update turns the Makefile and Dockerfile into a CLI's around an
   http server's main.go.
4. `make template-update` (scripts/template-update.sh): killed mid-way, failing, or
   asked to run on a dirty tree, it leaves the tree exactly as it was; with the real
   copier it updates and verifies, or reports a real conflict and stops.
   Controls: copier alone, killed or failing, leaves a half-written tree; without the
   dirty-tree check a failed run loses uncommitted work.
5. .gitignore covers the binary a plain `go build` writes at the root.
   Control: without that line `git status` shows it.
(The cruft case lives in tests/cookiecutter/test_cruft_release_python.py.)
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import (
    GIT_IDENTITY,
    HARDENING_LINE,
    ROOT,
    TEAM_MIRROR,
    TEAM_TARGET,
    commit_all,
    copy,
    default_signal_handling,
    edit,
    generate_service,
    git,
    improve_template,
    need,
    replace_once,
    run,
    template_release,
    template_repo,
    update,
)

copier = pytest.importorskip("copier")

SLUG = "hello-service"  # the default project_slug ("Hello Service")
TEMPLATE_DIR = "{{cookiecutter.project_slug}}"

# -- helpers ----------------------------------------------------------------------

ReleaseChange = Callable[[Path], None]


def released_template(tmp_path: Path, *v2_changes: ReleaseChange) -> Path:
    """A throwaway template repo: v1.0.0 is this working tree; v2.0.0 adds the usual
    improvements (test_update.improve_template) and then `v2_changes`."""
    repo = template_repo(tmp_path / "template")
    template_release(repo, "v1.0.0", "v1")
    improve_template(repo)
    for change in v2_changes:
        change(repo)
    template_release(repo, "v2.0.0", "v2")
    return repo


def change_config(repo: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Edit the template repo's copier.yml as data (comments are lost: a control release only)."""
    path = repo / "copier.yml"
    original, config = yaml.safe_load(path.read_text()), yaml.safe_load(path.read_text())
    change(config)
    assert config != original, "the copier.yml change matched nothing"
    path.write_text(yaml.safe_dump(config, sort_keys=False, width=10_000))


def without_migration(step: str) -> ReleaseChange:
    """A release whose `_migrations` lacks the step running `hooks/migrations.py STEP`."""

    def change(repo: Path) -> None:
        def drop(config: dict[str, Any]) -> None:
            kept = [m for m in config["_migrations"] if step not in m["command"]]
            assert len(kept) == len(config["_migrations"]) - 1, f"no single {step!r} migration"
            config["_migrations"] = kept

        change_config(repo, drop)

    return change


def without_main_go_exclusions(repo: Path) -> None:
    def drop(config: dict[str, Any]) -> None:
        config["_exclude"] = [pattern for pattern in config["_exclude"] if "main" not in pattern]

    change_config(repo, drop)


def with_plain_app_kind_validator(repo: Path) -> None:
    def plain(config: dict[str, Any]) -> None:
        config["app_kind"]["validator"] = "{{ validation_error('app_kind', app_kind) }}"

    change_config(repo, plain)


def without_template_file(name: str) -> ReleaseChange:
    def change(repo: Path) -> None:
        (repo / TEMPLATE_DIR / name).unlink()

    return change


def status(project: Path) -> str:
    return git(project, "status", "--porcelain", "--untracked-files=all")


def snapshot(project: Path) -> dict[str, bytes]:
    """Every file git sees (tracked, untracked, ignored alike), by content."""
    return {
        path.relative_to(project).as_posix(): path.read_bytes()
        for path in sorted(project.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(project).parts
    }


def need_go_and_make() -> None:
    need("go", "the service's own `make build`")
    need("make", "the service's Makefile")


# -- 1. a file the new release no longer ships -------------------------------------

TEAM_RENOVATE_LINE = '  "schedule": ["before 6am on monday"],'


def renovate_with_team_line(project: Path) -> bytes:
    anchor = '  "ignoreScripts": true,\n'
    edit(project / "renovate.json", replace_once(anchor, f"{anchor}{TEAM_RENOVATE_LINE}\n"))
    commit_all(project, "Team: Renovate only on Monday mornings")
    return (project / "renovate.json").read_bytes()


def test_a_file_the_release_drops_is_kept_with_the_teams_edit(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    template = released_template(tmp_path, without_template_file("renovate.json"))
    project = generate_service(template, tmp_path / "svc", "v1.0.0")
    team_renovate = renovate_with_team_line(project)
    capfd.readouterr()

    update(project, "v2.0.0")

    assert (project / "renovate.json").read_bytes() == team_renovate
    assert git(project, "status", "--porcelain", "--", "renovate.json") == "", "kept as committed: nothing to review"
    assert "kept renovate.json: this release no longer ships it" in capfd.readouterr().out
    assert HARDENING_LINE in (project / "Dockerfile").read_text(), "the rest of the update arrived"


def test_control_without_keep_removed_copier_deletes_the_teams_file(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    template = released_template(tmp_path, without_template_file("renovate.json"), without_migration("keep-removed"))
    project = generate_service(template, tmp_path / "svc", "v1.0.0")
    renovate_with_team_line(project)
    capfd.readouterr()

    update(project, "v2.0.0")

    assert not (project / "renovate.json").exists(), "copier no longer deletes it: the protection may be unneeded"
    assert git(project, "ls-files", "--deleted") == "renovate.json\n"
    assert "kept" not in capfd.readouterr().out, "deleted without a word"


# -- 2. main_package -----------------------------------------------------------------

TEAM_GREETING = "Hi from team"


def test_created_with_main_package_the_main_files_live_there_and_make_build_builds(tmp_path: Path) -> None:
    package = f"./cmd/{SLUG}"
    project = copy(ROOT, tmp_path / "svc", "HEAD", {"main_package": package})

    assert sorted(p.name for p in (project / "cmd" / SLUG).iterdir()) == ["main.go", "main_test.go"]
    assert not (project / "main.go").exists() and not (project / "main_test.go").exists()
    assert f"MAIN_PACKAGE := {package}\n" in (project / "Makefile").read_text()
    assert f"-o /out/usr/local/bin/{SLUG} {package}\n" in (project / "Dockerfile").read_text()

    need_go_and_make()
    run(["make", "build", "test"], cwd=project)
    assert (project / "bin" / SLUG).is_file()


def team_moves_main_to_cmd_app(project: Path) -> None:
    """What a team does without telling the template: main.go to cmd/app, its own greeting."""
    (project / "cmd" / "app").mkdir(parents=True)
    git(project, "mv", "main.go", "main_test.go", "cmd/app/")
    ours = f"{TEAM_GREETING} {SLUG}"
    edit(project / "cmd" / "app" / "main.go", replace_once(f"Hello from {SLUG}", ours))
    edit(project / "cmd" / "app" / "main_test.go", lambda text: text.replace(f"Hello from {SLUG}", ours))
    commit_all(project, "Team: package main lives in cmd/app")


def built_greeting(project: Path) -> bytes:
    """`make build`, and which greeting the binary carries: the team's or the template's."""
    need_go_and_make()
    run(["make", "build"], cwd=project)
    binary = (project / "bin" / SLUG).read_bytes()
    found = [text for text in (TEAM_GREETING.encode(), b"Hello from") if text in binary]
    assert len(found) == 1, f"expected one greeting in the binary, found {found}"
    return found[0]


def test_update_refused_while_main_go_moved_and_main_package_not_told(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    template = released_template(tmp_path)
    project = generate_service(template, tmp_path / "svc", "v1.0.0")
    team_moves_main_to_cmd_app(project)
    before = snapshot(project)
    capfd.readouterr()

    with pytest.raises(copier.errors.TaskError):
        update(project, "v2.0.0")

    assert "copier update --data main_package=./cmd/app" in capfd.readouterr().err
    assert status(project) == "" and snapshot(project) == before, "a refused update changed the tree"
    assert not (project / "main.go").exists()


def test_update_with_main_package_keeps_root_main_away_and_builds_the_teams_package(tmp_path: Path) -> None:
    template = released_template(tmp_path)
    project = generate_service(template, tmp_path / "svc", "v1.0.0")
    team_moves_main_to_cmd_app(project)

    update(project, "v2.0.0", data={"main_package": "./cmd/app"})

    assert not (project / "main.go").exists() and not (project / "main_test.go").exists()
    assert "MAIN_PACKAGE := ./cmd/app\n" in (project / "Makefile").read_text()
    assert f"-o /out/usr/local/bin/{SLUG} ./cmd/app\n" in (project / "Dockerfile").read_text()
    assert HARDENING_LINE in (project / "Dockerfile").read_text()
    assert built_greeting(project) == TEAM_GREETING.encode()


def test_control_without_check_nor_exclusions_the_templates_main_go_builds_instead(tmp_path: Path) -> None:
    template = released_template(tmp_path, without_migration("check-main-package"), without_main_go_exclusions)
    project = generate_service(template, tmp_path / "svc", "v1.0.0")
    team_moves_main_to_cmd_app(project)

    update(project, "v2.0.0")

    assert "?? main.go" in status(project).splitlines(), "no root main.go came back: the protection may be unneeded"
    assert built_greeting(project) == b"Hello from", "the template's package main builds, not the team's"


def test_control_without_the_exclusions_a_root_main_go_comes_back_beside_main_package(tmp_path: Path) -> None:
    template = released_template(tmp_path, without_main_go_exclusions)
    project = generate_service(template, tmp_path / "svc", "v1.0.0")
    team_moves_main_to_cmd_app(project)

    update(project, "v2.0.0", data={"main_package": "./cmd/app"})

    assert {"?? main.go", "?? main_test.go"} <= set(status(project).splitlines())


def test_control_without_the_check_the_update_goes_through_and_the_build_breaks(tmp_path: Path) -> None:
    """The check alone: no root main.go comes back (`_exclude`), but nothing tells the team
    that the answer still says `.`, so the template's Makefile and Dockerfile keep building
    a folder with no Go files. The check turns this into a refusal that names the fix."""
    template = released_template(tmp_path, without_migration("check-main-package"))
    project = generate_service(template, tmp_path / "svc", "v1.0.0")
    team_moves_main_to_cmd_app(project)

    update(project, "v2.0.0")

    assert not (project / "main.go").exists()
    assert "MAIN_PACKAGE := .\n" in (project / "Makefile").read_text()
    need_go_and_make()
    build = subprocess.run(["make", "build"], cwd=project, capture_output=True, text=True, timeout=600)
    assert build.returncode != 0 and "no Go files" in build.stderr, build.stderr


# -- 3. app_kind cannot change on update ------------------------------------------------


def test_changing_app_kind_on_update_is_refused_and_nothing_changes(tmp_path: Path) -> None:
    template = released_template(tmp_path)
    project = generate_service(template, tmp_path / "svc", "v1.0.0")
    before = snapshot(project)

    with pytest.raises(ValueError, match="Validation error for question 'app_kind': keep http: your main.go is a server"):
        update(project, "v2.0.0", data={"app_kind": "cli"})

    assert status(project) == "" and snapshot(project) == before


def test_control_with_a_plain_app_kind_validator_the_service_becomes_half_cli(tmp_path: Path) -> None:
    template = released_template(tmp_path, with_plain_app_kind_validator)
    project = generate_service(template, tmp_path / "svc", "v1.0.0")

    update(project, "v2.0.0", data={"app_kind": "cli"})

    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["app_kind"] == "cli", "the update went through"
    makefile, dockerfile = (project / "Makefile").read_text(), (project / "Dockerfile").read_text()
    assert "$(DOCKER) run --rm $(IMAGE):$(VERSION) $(ARGS)" in makefile, "the Makefile is a CLI's"
    assert "EXPOSE" not in dockerfile and "HEALTHCHECK" not in dockerfile, "the Dockerfile is a CLI's"
    assert '"net/http"' in (project / "main.go").read_text(), "main.go (the team's) is still an http server"


# -- 4. make template-update ----------------------------------------------------------

TEAM_MAKE_LINE = TEAM_TARGET.strip().splitlines()[0]  # "lint: check ## The team's own target"
HALF_WRITTEN = "half-written.txt"
COPIER_KILLED_MIDWAY = f"""#!/bin/sh
# A copier update caught half-way: the answers say it happened, a team line is gone,
# a new file is there, and it is still running.
sed -i 's/^_commit: .*/_commit: v9.9.9/' .copier-answers.yml
sed -i '/^{TEAM_MAKE_LINE.split()[0]}/d' Makefile
echo half > {HALF_WRITTEN}.tmp && mv {HALF_WRITTEN}.tmp {HALF_WRITTEN}
exec sleep 60
"""
COPIER_FAILING = f"""#!/bin/sh
# A copier update that fails after writing.
sed -i '/^{TEAM_MAKE_LINE.split()[0]}/d' Makefile
echo half > {HALF_WRITTEN}
echo "copier: something broke" >&2
exit 1
"""


@pytest.fixture
def template(tmp_path: Path) -> Path:
    return released_template(tmp_path)


@pytest.fixture
def service(template: Path, tmp_path: Path) -> Path:
    """A service from the throwaway template's v1.0.0 (v2.0.0 is released), with a team
    target in its Makefile and ignored files (.env, bin/x) that no restore may touch."""
    project = generate_service(template, tmp_path / "svc", "v1.0.0")
    edit(project / "Makefile", lambda text: text + TEAM_TARGET)
    commit_all(project, "Team: lint target")
    (project / ".env").write_text("SECRET=kept\n")
    (project / "bin").mkdir()
    (project / "bin" / "x").write_text("a build output\n")
    assert status(project) == ""
    return project


def fake_copier(tmp_path: Path, script: str, engine: str = "copier") -> dict[str, str]:
    """The environment with a fake `copier` (or `cruft`) first on PATH."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / engine).write_text(script)
    (bin_dir / engine).chmod(0o755)
    return {**os.environ, **GIT_IDENTITY, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


def as_made_by(engine: str, project: Path, template: Path) -> None:
    """For cruft, the same service as cruft records it: .cruft.json instead of copier's
    answers, so make template-update runs `cruft update` (the fake one)."""
    if engine == "copier":
        return
    (project / ".copier-answers.yml").unlink()
    commit = git(template, "rev-parse", "v1.0.0^{commit}").strip()
    record = {"template": str(template), "commit": commit, "checkout": None, "context": {"cookiecutter": {}}}
    (project / ".cruft.json").write_text(json.dumps(record, indent=2) + "\n")
    commit_all(project, "made by cruft")


def start(argv: list[str], project: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """In a process group of its own, with the signal handling a terminal's foreground job
    has (conftest.default_signal_handling), however the suite itself was started."""
    return subprocess.Popen(
        argv, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True, preexec_fn=default_signal_handling,
    )


def interrupt_once_half_written(proc: subprocess.Popen[str], project: Path, sig: int) -> tuple[int, str]:
    """`sig` to the whole process group once the fake copier has written; (status, output)."""
    deadline = time.monotonic() + 60
    while not (project / HALF_WRITTEN).exists():
        assert proc.poll() is None, f"ended before copier wrote anything:\n{proc.communicate()[0]}"
        assert time.monotonic() < deadline, "the fake copier never wrote"
        time.sleep(0.05)
    os.killpg(proc.pid, sig)
    output, _ = proc.communicate(timeout=60)
    return proc.returncode, output


def run_template_update(project: Path, env: dict[str, str], *make_args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "template-update", *make_args], cwd=project, env=env, capture_output=True, text=True, timeout=900
    )


# The script exits 130. make, hit by the same signal, waits for it, then stops with an
# error of its own (GNU make 4.3: "wait: No child processes. Stop.", status 2).
@pytest.mark.parametrize("engine", ["copier", "cruft"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT-ctrl-c"])
@pytest.mark.parametrize(
    ("argv", "expected_status"),
    [(["make", "template-update"], None), (["bash", "scripts/template-update.sh"], 130)],
    ids=["make-template-update", "the-script"],
)
def test_template_update_interrupted_midway_puts_the_tree_back(
    service: Path, template: Path, tmp_path: Path, argv: list[str], expected_status: int | None, sig: int,
    engine: str,
) -> None:
    need("make", "make template-update")
    as_made_by(engine, service, template)
    before = snapshot(service)
    proc = start(argv, service, fake_copier(tmp_path, COPIER_KILLED_MIDWAY, engine))

    code, output = interrupt_once_half_written(proc, service, sig)

    assert "interrupted: the tree is back" in output, output
    assert code != 0 if expected_status is None else code == expected_status, output
    assert status(service) == "", f"left behind:\n{status(service)}\n{output}"
    assert snapshot(service) == before, "not byte for byte as before (ignored files included)"


@pytest.mark.parametrize("engine", ["copier", "cruft"])
def test_template_update_after_a_failing_copier_puts_the_tree_back(
    service: Path, template: Path, tmp_path: Path, engine: str
) -> None:
    need("make", "make template-update")
    as_made_by(engine, service, template)
    before = snapshot(service)

    proc = run_template_update(service, fake_copier(tmp_path, COPIER_FAILING, engine))

    assert proc.returncode != 0
    assert f"{engine} update failed" in proc.stderr and "something broke" in proc.stderr, proc.stderr
    assert status(service) == "" and snapshot(service) == before


CRUFT_REJECTING = """#!/bin/sh
# cruft's way with a conflict: the hunk it could not apply, in a .rej file beside the file.
printf '%s\\n' '@@ -1 +1 @@' '-old' '+new' > Makefile.rej
echo "# an update that applied" >> Dockerfile
"""


def test_a_cruft_update_lists_its_rejected_hunks_as_conflicts(service: Path, template: Path, tmp_path: Path) -> None:
    need("make", "make template-update")
    as_made_by("cruft", service, template)
    proc = run_template_update(service, fake_copier(tmp_path, CRUFT_REJECTING, "cruft"))
    assert proc.returncode != 0, "an update with conflicts is not done"
    assert "template-update: conflicts, left inline" in proc.stdout and "  Makefile.rej" in proc.stdout, proc.stdout
    assert "make verify" not in proc.stdout.split("conflicts")[0], "no verification before the conflicts are resolved"
    assert "template release v1.0.0" in proc.stdout, "the release it updates from, by its tag"


@pytest.mark.parametrize("script", [COPIER_KILLED_MIDWAY, COPIER_FAILING], ids=["killed", "failing"])
def test_control_copier_alone_leaves_a_half_written_tree(service: Path, tmp_path: Path, script: str) -> None:
    env = fake_copier(tmp_path, script)
    argv = [str(tmp_path / "fake-bin" / "copier"), "update"]
    if script is COPIER_KILLED_MIDWAY:
        interrupt_once_half_written(start(argv, service, env), service, signal.SIGTERM)
    else:
        assert subprocess.run(argv, cwd=service, env=env, capture_output=True, timeout=60).returncode == 1
    changed = status(service).splitlines()
    assert " M Makefile" in changed and f"?? {HALF_WRITTEN}" in changed
    assert TEAM_MAKE_LINE not in (service / "Makefile").read_text(), "the team's line is gone"


def test_template_update_refuses_a_dirty_tree_and_changes_nothing(service: Path, tmp_path: Path) -> None:
    need("make", "make template-update")
    edit(service / "Makefile", lambda text: text + "# work in progress\n")
    before = snapshot(service)

    proc = run_template_update(service, fake_copier(tmp_path, COPIER_FAILING))

    assert proc.returncode != 0
    assert "the tree has uncommitted changes" in proc.stderr, proc.stderr
    assert snapshot(service) == before, "copier ran, or the uncommitted work changed"


def test_control_without_the_dirty_tree_check_a_failed_update_loses_uncommitted_work(
    service: Path, tmp_path: Path
) -> None:
    """The same script minus its refusal (a copy git ignores, so the tree stays as the
    team left it): its restore wipes the uncommitted line."""
    script = (service / "scripts" / "template-update.sh").read_text()
    unchecked, found = re.subn(r'^\s*\[ -z "\$\(changes\)" \] \|\|\n\s+die "the tree has uncommitted.*\n', "", script,
                               flags=re.M)
    assert found == 1, "the dirty-tree check changed shape: update this control"
    (service / "scripts" / "unchecked-update.sh").write_text(unchecked)
    with (service / ".git" / "info" / "exclude").open("a") as exclude:
        exclude.write("/scripts/unchecked-update.sh\n")
    edit(service / "Makefile", lambda text: text + "# work in progress\n")

    proc = subprocess.run(
        ["bash", "scripts/unchecked-update.sh"], cwd=service, env=fake_copier(tmp_path, COPIER_FAILING),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert "copier update failed" in proc.stderr, proc.stderr
    assert "# work in progress" not in (service / "Makefile").read_text(), "the uncommitted line was lost"


def real_copier_env() -> dict[str, str]:
    """The real copier on PATH; no Docker engine, so the verification runs Go on this machine."""
    need_go_and_make()
    need("copier", "the real copier CLI on PATH")
    return {**os.environ, **GIT_IDENTITY, "DOCKER": "/nonexistent/docker", "VERIFY": "on"}


def add_a_template_file(template: Path) -> None:
    (template / TEMPLATE_DIR / "CONTRIBUTING.md").write_text("# Contributing to {{ cookiecutter.project_name }}\n")
    template_release(template, "v2.1.0", "v2.1: a new file")


# "no-new-file" is the usual update. "adds-a-file": v2.1.0 also ships a new file.
@pytest.mark.parametrize("adds_a_file", [False, True], ids=["no-new-file", "adds-a-file"])
def test_template_update_with_the_real_copier_updates_and_verifies(
    service: Path, template: Path, adds_a_file: bool
) -> None:
    env = real_copier_env()
    ref = "v2.0.0"
    if adds_a_file:
        add_a_template_file(template)
        ref = "v2.1.0"

    proc = run_template_update(service, env, f"REF={ref}")

    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert proc.stdout.rstrip().splitlines()[-1].startswith("template-update: updated and verified"), output
    assert "verify: [ ok ] static build" in proc.stdout, output
    assert yaml.safe_load((service / ".copier-answers.yml").read_text())["_commit"] == ref
    assert HARDENING_LINE in (service / "Dockerfile").read_text()
    assert TEAM_TARGET in (service / "Makefile").read_text()
    assert (service / ".env").read_text() == "SECRET=kept\n"


def test_template_update_reports_a_real_conflict_and_keeps_it_for_review(service: Path) -> None:
    env = real_copier_env()
    # The team and v2.0.0 both change the builder image line.
    edit(service / "Dockerfile", lambda text: text.replace("ARG GO_IMAGE=", f"ARG GO_IMAGE={TEAM_MIRROR}", 1))
    commit_all(service, "Team: builder from our mirror")

    proc = run_template_update(service, env, "REF=v2.0.0")

    assert proc.returncode != 0
    assert "conflicts, left inline" in proc.stdout and "Dockerfile" in proc.stdout, proc.stdout
    assert "\n  Dockerfile\n" in proc.stdout, "each conflicted file is listed"
    assert "verify:" not in proc.stdout, "verified a tree with conflict markers"
    assert "<<<<<<< before updating" in (service / "Dockerfile").read_text(), "the conflict is kept for review"


# -- 5. .gitignore covers the root binary ----------------------------------------------


@pytest.mark.parametrize("ignored", [True, False], ids=["gitignore-as-shipped", "control-without-the-line"])
def test_a_plain_go_build_at_the_root_leaves_the_tree_clean(tmp_path: Path, ignored: bool) -> None:
    need("go", "a plain `go build`")
    project = copy(ROOT, tmp_path / "svc", "HEAD")
    git(project, "init", "-q", "-b", "main")
    if not ignored:
        edit(project / ".gitignore", replace_once(f"/{SLUG}\n", ""))
    commit_all(project, "generated")

    run(["go", "build"], cwd=project)

    assert (project / SLUG).is_file()
    assert status(project) == ("" if ignored else f"?? {SLUG}\n")


@pytest.mark.parametrize("reset", [True, False], ids=["default-signal-handling", "control-started-in-the-background"])
def test_a_child_hears_ctrl_c_however_the_suite_was_started(reset: bool) -> None:
    """The interrupt tests above pass when the suite runs in the background (CI with no
    terminal, `make test &`), where SIGINT arrives ignored: start() gives the child the
    default handling again. The control keeps the inherited ignore: bash cannot trap it."""

    def started_in_the_background() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # what a background job inherits
        if reset:
            default_signal_handling()

    script = 'trap "echo trapped; exit 130" INT; echo ready; sleep 30 >/dev/null & wait'
    proc = subprocess.Popen(["bash", "-c", script], stdout=subprocess.PIPE, text=True, preexec_fn=started_in_the_background)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        proc.send_signal(signal.SIGINT)
        try:
            output, _ = proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            output = None  # still running: SIGINT never reached the trap
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    if reset:
        assert output == "trapped\n" and proc.returncode == 130
    else:
        assert output is None, "the control should show a background start ignoring Ctrl-C"
