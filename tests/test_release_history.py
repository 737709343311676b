"""Updates across the template's real release history, with both engines.

Services exist that were made from past states of this repository. This test makes services
at those states, checked out of the repository's own history (pinned below), releases this
checkout on top of them as the first tag, then a later release that adds a template helper
(as any release may), and updates the services as a team would, with its own edits in place:

- no team line is lost; every file a fresh render of the target release has is there; the
  template's improvements arrived (every line of each template-owned file of a fresh
  render); conflicts, if any, are reported by `make template-update`; `make verify` passes;
- cruft renders the old release and the new one in one process, and Python keeps the old
  release's extension module: the control takes the fix (hooks/release_extension.py, the
  stable entry point) out of the later release and shows the update failing the way it did
  ("'…' is undefined").

CI clones with history; a shallow clone is deepened first.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

import service_template as st
from conftest import (
    ROOT,
    STANDIN_IMAGES,
    cruft_settings,
    edit,
    git,
    need,
    replace_once,
    run,
)

# Past states of this repository that services can have been made from, as commits of its
# history; a state a later release is cut from joins the list as its tag. No release was
# tagged before this checkout: a service made then records the commit (copier's `_commit`,
# cruft's `commit`), and copier reads it as older than the first release.
# 3841e3f: the template as landed on 2026-11-26, before the stable entry point.
# 706efdc: with it, with make template-update for cruft, before the platform package.
PINNED_STATES = ["3841e3f0f8131093f2c1700d62cd7159d14ec808", "706efdc51556753c333e09807a1464da7a1649e5"]
# The last state before the image_repository question (its Makefile: `IMAGE ?= <slug>`).
BEFORE_IMAGE_REPOSITORY = "aa259c2238078057c0b1ae8e6751bb6876e03959"
HEAD_RELEASE = "v0.2.0"  # this checkout's working tree, released: the first tag (CHANGELOG.md)
LATER_RELEASE = "v0.3.0"  # HEAD plus a new template helper, used by a template-owned file
OLDEST = PINNED_STATES[0]

NEW_HELPER = "release_greeting"
NEW_HELPER_LINE = "# A later release's helper says: hello from a later release"
SLUG = "hello-service"
ANSWERS: dict[str, str] = {}  # the defaults: an http server on scratch

# A team's own edits to its service: a route in main.go, a Makefile target, a .dockerignore
# line, its README, and a file of its own.
TEAM_ROUTE = '\tmux.HandleFunc("GET /team", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("team\\n")) })\n'
TEAM_EDITS = {
    "Makefile": "\nteam-lint: ## The team's own check\n\tgo vet ./...\n",
    ".dockerignore": "# The team's: never send local notes\n**/*.notes\n",
    "README.md": "\n## On call\n\nPage the billing team.\n",
    "docs/runbook.md": "# Runbook\n\nRestart it.\n",
}


def _ensure_history() -> None:
    """The pinned commits must be in this clone: deepen a shallow one (CI's may be)."""
    missing = [sha for sha in [BEFORE_IMAGE_REPOSITORY, *PINNED_STATES]
               if subprocess.run(["git", "cat-file", "-e", f"{sha}^{{commit}}"], cwd=ROOT, capture_output=True).returncode]
    if missing and git(ROOT, "rev-parse", "--is-shallow-repository").strip() == "true":
        run(["git", "fetch", "-q", "--unshallow"], cwd=ROOT, timeout=600)
    for sha in missing:
        run(["git", "cat-file", "-e", f"{sha}^{{commit}}"], cwd=ROOT)


def _working_tree_files(root: Path) -> list[str]:
    listed = git(root, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    return [name for name in listed.split("\0") if name and (root / name).is_file()]


def _release_working_tree(repo: Path, tag: str) -> None:
    """Commit this checkout's working tree (what the tests test) on top, tagged `tag`."""
    for name in _working_tree_files(repo):
        (repo / name).unlink()
    for name in _working_tree_files(ROOT):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, repo / name)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", f"this checkout, released as {tag}")
    git(repo, "tag", "-a", tag, "-m", tag)


def _edit(path: Path, old: str, new: str) -> None:
    edit(path, replace_once(old, new))


def _release_adding_a_helper(repo: Path, tag: str, *, undo_fix: bool = False) -> None:
    """A later release: a new helper in service_template.py that the Makefile renders.

    undo_fix: the control. The release names its extension as 3841e3f did
    (hooks.jinja_ext.GoServiceExtension), a module name the old release has cached."""
    helpers = repo / "hooks" / "service_template.py"
    _edit(helpers, 'TEMPLATE_GLOBALS = (\n', f'TEMPLATE_GLOBALS = (\n    "{NEW_HELPER}",\n')
    helpers.write_text(helpers.read_text() + f'\n\ndef {NEW_HELPER}() -> str:\n    return "hello from a later release"\n')
    _edit(repo / "{{cookiecutter.project_slug}}" / "Makefile", "\nBINARY := ",
          "\n# A later release's helper says: {{ " + NEW_HELPER + "() }}\nBINARY := ")
    if undo_fix:
        ext = repo / "hooks" / "jinja_ext.py"
        ext.write_text(ext.read_text() + (
            "\n\nclass GoServiceExtension(jinja2.ext.Extension):\n"
            "    def __init__(self, environment: Environment) -> None:\n"
            "        super().__init__(environment)\n"
            "        install(environment)\n"
        ))
        _edit(ext, "import jinja2\n", "import jinja2\nimport jinja2.ext\n")
        config = repo / "cookiecutter.json"
        _edit(config, '"hooks.release_extension.ReleaseExtension"', '"hooks.jinja_ext.GoServiceExtension"')
    git(repo, "commit", "-q", "-a", "-m", f"{tag}: a new template helper")
    git(repo, "tag", "-a", tag, "-m", tag)


def _history_repo(root: Path, *, undo_fix: bool = False) -> Path:
    _ensure_history()
    repo = root / "template"
    run(["git", "clone", "-q", "--no-local", str(ROOT), str(repo)], cwd=root, timeout=600)
    git(repo, "checkout", "-q", "-B", "release", git(ROOT, "rev-parse", "HEAD").strip())
    _release_working_tree(repo, HEAD_RELEASE)
    _release_adding_a_helper(repo, LATER_RELEASE, undo_fix=undo_fix)
    return repo


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _history_repo(tmp_path_factory.mktemp("history"))


def _env(tmp_path: Path, verify: str, docker: str = "docker") -> dict[str, str]:
    """The engines and make as a team runs them, with the local stand-in base images."""
    return {
        **os.environ,
        **cruft_settings(tmp_path),
        "VERIFY": verify,
        "GO_IMAGE": STANDIN_IMAGES["go"],
        "VERIFY_DOCKER_NETWORK": "host",
        "DOCKER_BUILDKIT": "1",
        "DOCKER": docker,
    }


def _make_service(engine: str, template: Path, tag: str, tmp_path: Path) -> Path:
    """A service made at release `tag`, committed, with the team's edits committed on top."""
    out = tmp_path / f"{engine}-services"
    out.mkdir()
    env = _env(tmp_path, "off")
    if engine == "copier":
        service = out / SLUG
        run([need("copier", "copier copy"), "copy", "-q", "--trust", "--defaults", "--vcs-ref", tag,
             str(template), str(service)], cwd=out, env=env)
    else:
        skip = [arg for name in st.TEAM_OWNED for arg in ("--skip", name)]
        run([need("cruft", "cruft create"), "create", "--no-input", "--checkout", tag, "--output-dir", str(out),
             "--extra-context", json.dumps(ANSWERS), *skip, str(template)], cwd=out, env=env)
        service = out / SLUG
    git(service, "init", "-q", "-b", "main")
    git(service, "add", "-A")
    git(service, "commit", "-q", "-m", f"generated at {tag}")
    _edit(service / "main.go", "\tmux := http.NewServeMux()\n", "\tmux := http.NewServeMux()\n" + TEAM_ROUTE)
    for name, text in TEAM_EDITS.items():
        path = service / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text((path.read_text() if path.exists() else "") + text)
    git(service, "add", "-A")
    git(service, "commit", "-q", "-m", "the team's edits")
    return service


def _team_lines() -> dict[str, list[str]]:
    lines = {name: [line for line in text.splitlines() if line.strip()] for name, text in TEAM_EDITS.items()}
    lines["main.go"] = [TEAM_ROUTE.rstrip("\n")]
    return lines


def _fresh_render(template: Path, tag: str, tmp_path: Path) -> Path:
    dst = tmp_path / f"fresh-{tag}"
    if not dst.exists():
        run([need("copier", "copier copy"), "copy", "-q", "--trust", "--defaults", "--vcs-ref", tag,
             str(template), str(dst)], cwd=tmp_path, env=_env(tmp_path, "off"))
    return dst


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and ".git" not in p.relative_to(root).parts}


CONFLICT_MARKERS = ("<<<<<<< ", "=======", ">>>>>>> ", "||||||| ")


def _conflicted(service: Path) -> list[str]:
    return sorted(name for name in _files(service)
                  if any(line.startswith(CONFLICT_MARKERS[0]) for line in (service / name).read_text(errors="replace").splitlines()))


def _resolve_keeping_both(service: Path, names: list[str]) -> None:
    """The sensible resolution of a team's addition next to a template's: keep both sides."""
    for name in names:
        path = service / name
        lines = path.read_text().splitlines(keepends=True)
        path.write_text("".join(line for line in lines if not line.startswith(CONFLICT_MARKERS)))


def _template_update(service: Path, tmp_path: Path, ref: str, verify: str, docker: str) -> subprocess.CompletedProcess[str]:
    """`make template-update REF=ref` in the service, as its team runs it."""
    return subprocess.run(["make", "--no-print-directory", "template-update", f"REF={ref}"], cwd=service,
                          env=_env(tmp_path, verify, docker), capture_output=True, text=True, timeout=1800)


def _check_updated(service: Path, template: Path, tag: str, tmp_path: Path, proc: subprocess.CompletedProcess[str]) -> None:
    output = proc.stdout + proc.stderr
    conflicts = _conflicted(service) + sorted(n for n in _files(service) if n.endswith(".rej"))
    for name in conflicts:
        assert f"  {name}" in output, f"{name} has a conflict that make template-update did not report:\n{output}"
    if conflicts:
        assert proc.returncode == 1, output
        _resolve_keeping_both(service, [n for n in conflicts if not n.endswith(".rej")])
    else:
        assert proc.returncode == 0, output

    for name, lines in _team_lines().items():
        text = (service / name).read_text()
        lost = [line for line in lines if line not in text.splitlines()]
        assert not lost, f"the team's lines in {name} were lost: {lost}\n{output}"

    fresh = _fresh_render(template, tag, tmp_path)
    # The engine's own record of the answers: copier's, or cruft's .cruft.json.
    missing = _files(fresh) - _files(service) - ({".copier-answers.yml"} if (service / ".cruft.json").exists() else set())
    assert not missing, f"files a fresh {tag} service has are missing: {sorted(missing)}"
    answers = yaml.safe_load((fresh / ".copier-answers.yml").read_text())
    # This checkout's ownership list; an older target release has only some of its files.
    for name in (n for n in st.template_owned_files(answers) if (fresh / n).exists()):
        have = set((service / name).read_text().splitlines())
        absent = [line for line in (fresh / name).read_text().splitlines() if line.strip() and line not in have]
        assert not absent, f"{name}: the template's {tag} lines did not arrive: {absent[:5]}\n{output}"


def _release_of(service: Path) -> str:
    if (service / ".copier-answers.yml").exists():
        return str(yaml.safe_load((service / ".copier-answers.yml").read_text())["_commit"])
    return json.loads((service / ".cruft.json").read_text())["commit"]


def _cruft_update_by_hand(service: Path, tmp_path: Path, ref: str, docker: str) -> subprocess.CompletedProcess[str]:
    """What docs/cookiecutter.md says for a cruft service made before make template-update
    knew cruft: `cruft update`, then `make verify`, reported as make template-update does."""
    proc = subprocess.run(["cruft", "update", "--skip-apply-ask", "--allow-untracked-files", "--checkout", ref],
                          cwd=service, env=_env(tmp_path, "off", docker), capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    conflicts = _conflicted(service)
    if conflicts:
        return subprocess.CompletedProcess(proc.args, 1, proc.stdout + "".join(f"  {n}\n" for n in conflicts), proc.stderr)
    verified = subprocess.run(["make", "--no-print-directory", "verify"], cwd=service, env=_env(tmp_path, "on", docker),
                              capture_output=True, text=True, timeout=1800)
    return subprocess.CompletedProcess(proc.args, verified.returncode, proc.stdout + verified.stdout, verified.stderr)


def _past_script(state: str) -> str:
    """A past state's scripts/template-update.sh, read from the history."""
    return git(ROOT, "show", f"{state}:{{{{cookiecutter.project_slug}}}}/scripts/template-update.sh")


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.parametrize("state", PINNED_STATES, ids=[state[:7] for state in PINNED_STATES])
@pytest.mark.parametrize("engine", ["copier", "cruft"])
def test_a_service_from_each_pinned_state_updates_step_by_step_and_verifies(
    engine: str, state: str, history: Path, tmp_path: Path, docker: str, standin_images: dict[str, str]
) -> None:
    need("make", "make template-update")
    service = _make_service(engine, history, state, tmp_path)

    if engine == "cruft" and "cruft update" not in _past_script(state):
        # That state's scripts/template-update.sh knows only copier: a service made with
        # cruft there runs cruft itself once (docs/cookiecutter.md), then make template-update.
        proc = _cruft_update_by_hand(service, tmp_path, HEAD_RELEASE, docker)
    else:
        proc = _template_update(service, tmp_path, HEAD_RELEASE, "on", docker)
        if not _past_script(state).endswith('main "$@"; exit $?\n'):
            # A script that calls main and exit on two lines (3841e3f's) reads on in its own
            # file once copier has rewritten it: bash errors after the finished, verified
            # update (docs/updating.md). Every later update here must end cleanly.
            assert proc.returncode == 2 and "updated and verified" in proc.stdout, proc.stdout + proc.stderr
            proc.returncode = 0
    _check_updated(service, history, HEAD_RELEASE, tmp_path, proc)
    if proc.returncode == 0:
        assert "verify: " in proc.stdout and ": verified" in proc.stdout, proc.stdout + proc.stderr
    git(service, "add", "-A")
    git(service, "commit", "-q", "-m", f"template update to {HEAD_RELEASE}")

    # From this release on: make template-update runs either engine, names the releases,
    # and the later release's new helper is defined when its files are rendered.
    proc = _template_update(service, tmp_path, LATER_RELEASE, "on", docker)
    _check_updated(service, history, LATER_RELEASE, tmp_path, proc)
    assert f"from template release {HEAD_RELEASE} to {LATER_RELEASE}" in proc.stdout, proc.stdout
    assert NEW_HELPER_LINE in (service / "Makefile").read_text()
    if proc.returncode == 0:
        assert "updated and verified" in proc.stdout, proc.stdout + proc.stderr


# Every pair of states, older to newer: the pinned commits, this checkout's release, the later one.
STATES = [*PINNED_STATES, HEAD_RELEASE, LATER_RELEASE]
PAIRS = [(old, new) for i, old in enumerate(STATES) for new in STATES[i + 1:]]


@pytest.mark.parametrize(("old", "new"), PAIRS, ids=[f"{a[:7]}-to-{b[:7]}" for a, b in PAIRS])
@pytest.mark.parametrize("engine", ["copier", "cruft"])
def test_a_service_updates_across_every_pair_of_states_at_once(
    engine: str, old: str, new: str, history: Path, tmp_path: Path
) -> None:
    service = _make_service(engine, history, old, tmp_path)
    args = (["copier", "update", "-q", "--trust", "--defaults", "--conflict", "inline", "--vcs-ref", new]
            if engine == "copier" else
            ["cruft", "update", "--skip-apply-ask", "--allow-untracked-files", "--checkout", new])
    proc = subprocess.run(args, cwd=service, env=_env(tmp_path, "off"), capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (NEW_HELPER_LINE in (service / "Makefile").read_text()) == (new == LATER_RELEASE)
    conflicts = _conflicted(service)
    proc.stdout += "".join(f"  {n}\n" for n in conflicts)
    proc.returncode = 1 if conflicts else 0
    _check_updated(service, history, new, tmp_path, proc)


def test_control_without_the_stable_entry_point_cruft_cannot_update_from_the_oldest_release(tmp_path: Path) -> None:
    template = _history_repo(tmp_path, undo_fix=True)
    service = _make_service("cruft", template, OLDEST, tmp_path)
    before = git(service, "status", "--porcelain")
    proc = subprocess.run(["cruft", "update", "--skip-apply-ask", "--allow-untracked-files", "--checkout", LATER_RELEASE],
                          cwd=service, env=_env(tmp_path, "off"), capture_output=True, text=True, timeout=900)
    assert proc.returncode != 0
    # The first helper the old release's fixed list lacks: one this checkout added (its
    # ci_provider default), or the later release's.
    undefined = re.search(r"'(\w+)' is undefined", proc.stdout + proc.stderr)
    assert undefined, proc.stdout + proc.stderr
    old_list = git(ROOT, "show", f"{OLDEST}:hooks/jinja_ext.py")
    assert undefined.group(1) in {*st.TEMPLATE_GLOBALS, NEW_HELPER}, undefined.group(0)
    assert f'"{undefined.group(1)}"' not in old_list, "the old release had it"
    assert git(service, "status", "--porcelain") == before
    assert _release_of(service) == OLDEST


TEAM_IMAGE = "registry.acme.example/billing/hello-service"


@pytest.mark.parametrize("team_changed_it", [True, False], ids=["team-image", "template-default"])
@pytest.mark.parametrize("engine", ["copier", "cruft"])
def test_an_update_keeps_the_image_the_teams_makefile_names(
    engine: str, team_changed_it: bool, history: Path, tmp_path: Path
) -> None:
    """A service made before image_repository gets the team's image from its Makefile's
    IMAGE line when the team changed it, else the default derived from module_path
    (the control: with the Makefile as the template wrote it, the module path decides)."""
    service = _make_service(engine, history, BEFORE_IMAGE_REPOSITORY, tmp_path)
    assert f"IMAGE ?= {SLUG}\n" in (service / "Makefile").read_text()
    if team_changed_it:
        _edit(service / "Makefile", f"IMAGE ?= {SLUG}\n", f"IMAGE ?= {TEAM_IMAGE}\n")
        git(service, "commit", "-q", "-a", "-m", "the team's registry")
    args = (["copier", "update", "-q", "--trust", "--defaults", "--conflict", "inline", "--vcs-ref", HEAD_RELEASE]
            if engine == "copier" else
            ["cruft", "update", "--skip-apply-ask", "--allow-untracked-files", "--checkout", HEAD_RELEASE])
    proc = subprocess.run(args, cwd=service, env=_env(tmp_path, "off"), capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    expected = TEAM_IMAGE if team_changed_it else f"ghcr.io/example/{SLUG}"
    if engine == "copier":
        recorded = yaml.safe_load((service / ".copier-answers.yml").read_text())["image_repository"]
    else:
        recorded = json.loads((service / ".cruft.json").read_text())["context"]["cookiecutter"]["image_repository"]
    assert recorded == expected
    workflow = (service / ".github" / "workflows" / "ci.yml").read_text()
    assert expected in workflow, "CI releases to the image make docker-push pushes"
    assert f"IMAGE ?= {expected}\n" in (service / "Makefile").read_text() or team_changed_it


@pytest.mark.parametrize("engine", ["copier", "cruft"])
def test_template_update_with_verify_off_skips_the_verification_with_a_line(
    engine: str, history: Path, tmp_path: Path
) -> None:
    service = _make_service(engine, history, HEAD_RELEASE, tmp_path)
    proc = _template_update(service, tmp_path, LATER_RELEASE, "off", "/nonexistent/docker")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert f"updating with {engine} from template release {HEAD_RELEASE} to {LATER_RELEASE}" in output
    assert "template-update: verification skipped (VERIFY=off)" in output
    assert "does not verify" not in output and "broken" not in output
    assert NEW_HELPER_LINE in (service / "Makefile").read_text()
