"""Hostile answers, base images and the verification hook's use of subprocess.

Hostile answers: Hypothesis feeds every free-text question quotes, backslashes,
newlines, `$()`, backticks, Jinja markers, Unicode and very long values. Each value
is either refused by its validator (copier raises with that message and writes
nothing) or rendered into a project whose files still parse, whose labels carry the
value exactly, and which never runs a command hidden in an answer (a canary file
would appear). A sample of accepted values goes through gofmt, go vet, go test,
`make build` and hadolint. The number of cases that ran is printed at the end.
"""

from __future__ import annotations

import ast
import atexit
import collections
import io
import json
import re
import shutil
import subprocess
import tarfile
import tempfile
import unicodedata
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as strat

import service_template as st
from conftest import (
    ROOT,
    SUMMARY_LINES,
    build_args,
    copier_generate,
    docker_build,
    dockerfile_labels,
    dockerfile_logical_lines,
    gofmt_bin,
    need,
    refusal_problems,
    run,
)

TEMPLATE = ROOT / "{{cookiecutter.project_slug}}"
CASES: collections.Counter[str] = collections.Counter()  # what ran, printed by the last test

# A command hidden in an answer would create a file in this folder.
CANARY_DIR = Path(tempfile.mkdtemp(prefix="hardening-canary-"))
CANARY = CANARY_DIR / "pwned"
atexit.register(shutil.rmtree, CANARY_DIR, True)  # also when this module is only collected
# Go must never fetch a toolchain or module: the template needs neither.
GO_ENV = {"GOTOOLCHAIN": "local", "GOPROXY": "off", "GOFLAGS": "-mod=mod"}

HOSTILE_FRAGMENTS = [
    '"', "'", "\\", "\\\n", "\n", "\r\n", "\t", "\x00", "\x1b[31m", "\u2028", "\u2029", "\u0085", "\ufeff",
    f"$(touch {CANARY})", f"`touch {CANARY}`", f"; touch {CANARY}", f"$(shell touch {CANARY})", f"$$(touch {CANARY})",
    "${HOME}", "$HOME", "{{ 7*7 }}", "{% raw %}", "{% endraw %}", "{#", "#}", "{{", "}}", "%}",
    "# syntax=docker.io/evil/frontend x", "escape=x", "hadolint global ignore=DL3006", "*/", "/*", "//go:build ignore",
    "<script>", "&&", "|", "#", "=", ":", "@", "é", "日本語", "🚀", "\u202e", "\u200b", "Ω", "ǅ", "١٢", "\u00a0",
    "..", "/", "//", "~1", "con", "-", "0", "08080", " ", "1.27", "65532", "github.com/acme/x",
]


def hostile_text(max_fragments: int = 6) -> strat.SearchStrategy[str]:
    """Concatenations of hostile fragments and arbitrary text, plus very long values."""
    piece = strat.one_of(strat.sampled_from(HOSTILE_FRAGMENTS), strat.text(max_size=6))
    joined = strat.lists(piece, max_size=max_fragments).map("".join)
    long = strat.builds(lambda ch, n: ch * n, strat.sampled_from(["a", "é", "-", "1", "日", " "]), strat.integers(60, 5000))
    return strat.one_of(joined, long)


def near_valid(valid: str) -> strat.SearchStrategy[str]:
    """A valid answer with something hostile before, inside or after it."""
    return strat.builds(
        lambda pos, frag: valid[:pos] + frag + valid[pos:],
        strat.integers(0, len(valid)),
        strat.sampled_from(HOSTILE_FRAGMENTS),
    )


# Every free-text question, with values of every kind: hostile ones, and hostile
# fragments planted into an otherwise valid answer.
HOSTILE: dict[str, strat.SearchStrategy[str]] = {
    "project_name": strat.one_of(hostile_text(), near_valid("Billing API")),
    "project_slug": strat.one_of(hostile_text(3), near_valid("billing-api")),
    "module_path": strat.one_of(hostile_text(3), near_valid("github.com/acme/billing-api")),
    "description": strat.one_of(hostile_text(), near_valid("Handles invoices & refunds")),
    "http_port": strat.one_of(hostile_text(2), near_valid("8080"), strat.integers(-10, 70000).map(str)),
    "run_as_uid": strat.one_of(hostile_text(2), near_valid("65532"), strat.integers(-10, 2**31 + 10).map(str)),
    "go_version": strat.one_of(hostile_text(2), near_valid("1.27"), near_valid("1.27.3")),
}

_TEXT_OK = strat.characters(
    blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"), blacklist_characters='"\\$`{}%<>'
)
_printable_text = strat.text(_TEXT_OK, max_size=40)
# Values the validators accept, still as awkward as allowed (quotes, '#', ';', Unicode,
# directive look-alikes), for the sample that is built and tested.
ACCEPTED: dict[str, strat.SearchStrategy[str]] = {
    "project_name": strat.one_of(
        _printable_text.filter(str.strip),
        strat.sampled_from(["escape=x", "syntax=docker.io/evil/frontend x", "O'Brien's #1; a|b && c", "日本語 🚀 Ω"]),
    ),
    "project_slug": strat.from_regex(r"[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,4}){0,3}", fullmatch=True),
    "module_path": strat.from_regex(
        r"[a-z0-9][a-z0-9-]{0,6}\.[a-z]{2,4}(/[A-Za-z0-9_~-]{1,6}(\.[A-Za-z0-9_~-]{1,4})?){0,3}", fullmatch=True
    ).filter(lambda path: st.validation_error("module_path", path) == ""),
    "description": strat.one_of(
        _printable_text, strat.sampled_from(["*/ // /* it's #1", "//go:build ignore", "a 'quoted' & (grouped) thing"])
    ),
    "http_port": strat.integers(1, 65535).map(str),
    "run_as_uid": strat.integers(1, st.MAX_UID).map(str),
    # Releases the local toolchain (go1.27.3) can build; a newer go.mod needs a newer Go.
    "go_version": strat.sampled_from(["1.22", "1.22.0", "1.24.5", "1.27", "1.27.0", "1.27.3"]),
}


# -- what a rendered project must satisfy ----------------------------------------


def parser_directives(text: str) -> dict[str, str]:
    """The `# key=value` lines BuildKit reads before anything else."""
    found = {}
    for line in text.split("\n"):
        match = re.fullmatch(r"#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*", line)
        if not match:
            break
        found[match.group(1).lower()] = match.group(2)
    return found


def check_rendered(project: Path, answers: dict[str, Any]) -> None:
    """The files that carry answers hold them exactly and still parse; nothing ran."""
    slug = answers["project_slug"]
    dockerfile = (project / "Dockerfile").read_text()
    assert parser_directives(dockerfile) == {}, "an answer became a Dockerfile parser directive"
    labels = dockerfile_labels(dockerfile)
    assert labels["org.opencontainers.image.description"] == answers["description"]
    assert labels["org.opencontainers.image.title"] == slug
    assert labels["org.opencontainers.image.source"] == f"https://{answers['module_path']}"
    instructions = dockerfile_logical_lines(dockerfile)
    assert f"USER {answers['run_as_uid']}:{answers['run_as_uid']}" in instructions
    go_mod = (project / "go.mod").read_text()
    assert go_mod.startswith(f"module {answers['module_path']}\n")
    assert re.findall(r"^go (\S+)$", go_mod, re.M) == [answers["go_version"]]
    if answers.get("app_kind", "http") == "http":
        assert f"ENV PORT={answers['http_port']}" in instructions
        assert f'DefaultPort = "{answers["http_port"]}"' in (project / "internal/platform/answers.go").read_text()
    else:
        answers = {k: v for k, v in answers.items() if k != "http_port"}  # not asked for a cli

    # The answers file copier reads on update gives every answer back unchanged.
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    for name, value in answers.items():
        assert str(recorded[name]) == value, f"{name} changed on its way through .copier-answers.yml"

    # make reads the Makefile (its database shows the slug as the binary) without running anything.
    database = run(["make", "-pn", "help"], cwd=project, timeout=60).stdout
    assert f"BINARY := {slug}" in database
    run([need("hadolint", "lints the Dockerfile"), str(project / "Dockerfile")], cwd=project, timeout=60)
    unformatted = run([gofmt_bin(), "-l", "."], cwd=project, timeout=60).stdout
    assert unformatted == "", f"not gofmt-clean: {unformatted}"
    assert not CANARY.exists(), "a command hidden in an answer ran"


def full_answers(name: str, value: str, **others: Any) -> dict[str, Any]:
    """The answers copier ends up with: the defaults, with `name` set to `value`."""
    answers = {"project_name": "Hello Service", "description": "A minimal, hardened Go service",
               "http_port": "8080", "run_as_uid": "65532", "go_version": "1.27", **others, name: value}
    answers.setdefault("project_slug", st.service_slug(answers["project_name"]))
    answers.setdefault("module_path", f"github.com/example/{answers['project_slug']}")
    return answers


def render_or_refuse(name: str, value: str, **others: Any) -> Path | None:
    """Generate with one hostile answer: refused with the validator's message and nothing
    written, or rendered and checked. Returns the project (in a temporary folder) or None."""
    message = st.validation_error(name, value)
    workdir = Path(tempfile.mkdtemp(prefix="hostile-"))
    destination = workdir / "service"
    if message:
        try:
            with pytest.raises(ValueError) as refused:
                copier_generate(destination, {name: value, **others})
            assert message in str(refused.value)
            assert not destination.exists(), "a refused answer left output behind"
        finally:
            shutil.rmtree(workdir)
        CASES[f"refused {name}"] += 1
        return None
    try:
        copier_generate(destination, {name: value, **others})
        check_rendered(destination, full_answers(name, value, **others))
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)  # Hypothesis tries many failing examples
        raise
    CASES[f"rendered {name}"] += 1
    return destination


# -- the tests -------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(HOSTILE))
@settings(max_examples=400, deadline=None, database=None)
@given(data=strat.data())
def test_validators_answer_every_string_with_a_plain_message(name: str, data: strat.DataObject) -> None:
    """Wide and cheap: no value crashes a validator; anything accepted is safe to write."""
    value = data.draw(HOSTILE[name])
    message = st.validation_error(name, value)
    CASES[f"validator {name}"] += 1
    if message:
        assert refusal_problems(name, message) == [], message
        return
    # An independent look at accepted values: one line, ASCII where a tool needs it.
    assert value.splitlines() == [value] or value == ""
    assert not any(unicodedata.category(ch)[0] == "C" for ch in value)
    assert not set(value) & set('"\\$`{}%<>')
    if name in {"project_slug", "module_path", "http_port", "run_as_uid", "go_version"}:
        assert value.isascii() and value == value.strip() and " " not in value
    if name in {"http_port", "run_as_uid"}:
        assert str(int(value)) == value


@pytest.mark.parametrize("name", sorted(HOSTILE))
@settings(max_examples=20, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=strat.data())
def test_copier_refuses_or_renders_safely(name: str, data: strat.DataObject) -> None:
    """Through copier: refused with the validator's words, or rendered into files that parse."""
    project = render_or_refuse(name, data.draw(HOSTILE[name], label=name))
    if project is not None:
        shutil.rmtree(project.parent)


@settings(max_examples=20, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(answers=strat.fixed_dictionaries(ACCEPTED), app_kind=strat.sampled_from(["http", "cli"]))
def test_accepted_answers_build_and_pass_their_tests(answers: dict[str, str], app_kind: str) -> None:
    """A sample of awkward but accepted answers, all at once: gofmt, vet, test and build pass."""
    need("go", "builds the generated project")
    for name, value in answers.items():
        assert st.validation_error(name, value) == "", (name, value)
    first, *rest = answers.items()
    project = render_or_refuse(*first, app_kind=app_kind, **dict(rest))
    assert project is not None
    try:
        for step in (["go", "vet", "./..."], ["go", "test", "./..."], ["make", "build"]):
            run(step, cwd=project, timeout=300, env=GO_ENV)
        binary = project / "bin" / answers["project_slug"]
        version = run([str(binary), "-version"], cwd=project, timeout=30).stdout
        assert version.startswith(f"{answers['project_slug']} ")
        assert not CANARY.exists()
        CASES["built and tested"] += 1
    finally:
        shutil.rmtree(project.parent)


def test_the_name_cannot_become_a_parser_directive() -> None:
    """`escape=x` as a name once made the first Dockerfile line a directive BuildKit refused."""
    project = render_or_refuse("project_name", "escape=x")
    assert project is not None
    first_line = (project / "Dockerfile").read_text().split("\n", 1)[0]
    assert parser_directives(first_line) == {}
    assert parser_directives(f"# {'escape=x'}: a static Go binary") == {"escape": "x: a static Go binary"}, (
        "the directive check must recognise the old first line"
    )
    shutil.rmtree(project.parent)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("project_slug", "billing\n"),  # `$` in a pattern once let a trailing newline through
        ("http_port", "8080\n"),
        ("http_port", " 8080"),
        ("run_as_uid", "\n1000"),
        ("go_version", "1.27\n"),
        ("go_version", "1.٢٧"),  # Arabic-Indic digits matched `\d`
        ("module_path", "-x.com/a"),
        ("module_path", "github.com/acme/con"),
        ("module_path", "github.com/acme/a~1"),
        ("module_path", "github.com/acme/-x"),  # found by Hypothesis: go vet refuses the folder name
        ("project_name", "one\u2028two"),
        ("description", "one\u2029two"),
    ],
)
def test_values_that_once_slipped_through_are_refused(name: str, value: str) -> None:
    assert render_or_refuse(name, value) is None


# -- base images -----------------------------------------------------------------

RUNTIME_BASES = st.CHOICES["runtime_base"]


def rendered_dockerfile(runtime_base: str, go_version: str = "1.27") -> str:
    project = Path(tempfile.mkdtemp(prefix="from-")) / "service"
    try:
        copier_generate(project, {"runtime_base": runtime_base, "go_version": go_version})
        return (project / "Dockerfile").read_text()
    finally:
        shutil.rmtree(project.parent)


# Images whose only tags are names (no versioned tags exist): the release is in the
# repository name, and the digest pin (Renovate, pinDigests) makes the build exact.
VERSION_IN_NAME = {"gcr.io/distroless/static-debian12": "debian12"}


def image_is_versioned(reference: str) -> str:
    """'' when `reference` names an exact release, or why it does not."""
    match = re.fullmatch(r"(?P<name>[a-z0-9./_-]+)(:(?P<tag>[\w.-]+))?(@sha256:(?P<digest>[0-9a-f]{64}))?", reference)
    if not match:
        return f"{reference!r} is not an image reference"
    name, tag = match["name"], match["tag"]
    if not tag:
        return f"{reference} has no tag"
    if tag == "latest":
        return f"{reference} uses latest"
    if not re.search(r"\d+\.\d+", tag) and name not in VERSION_IN_NAME:
        return f"{reference}: the tag {tag!r} carries no version number"
    return ""


@pytest.mark.parametrize("runtime_base", RUNTIME_BASES)
def test_every_from_is_scratch_a_versioned_arg_or_a_tag(runtime_base: str) -> None:
    dockerfile = rendered_dockerfile(runtime_base)
    instructions = dockerfile_logical_lines(dockerfile)
    first_from = next(i for i, line in enumerate(instructions) if line.startswith("FROM "))
    # Global ARGs (before the first FROM) are what `--build-arg GO_IMAGE=...` overrides.
    global_args = dict(
        line.split(None, 1)[1].split("=", 1) for line in instructions[:first_from] if line.startswith("ARG ")
    )
    stages: set[str] = set()
    for line in instructions[first_from:]:
        if not line.startswith("FROM "):
            continue
        words = [w for w in line.split()[1:] if not w.startswith("--platform=")]
        image = words[0]
        if len(words) == 3 and words[1].upper() == "AS":
            stages.add(words[2])
        if image == "scratch" or image in stages:
            continue
        arg = re.fullmatch(r"\$\{(\w+)\}", image)
        if arg:
            assert arg[1] in global_args, f"{image} is not a global ARG, so --build-arg cannot set it"
            default = global_args[arg[1]]
            if default in stages:  # a stage of this file, unless the build arg names an image (LINT_IMAGE)
                continue
            assert default in {st.go_image({"go_version": "1.27"}), *st.BASE_IMAGES.values()}, (
                f"{arg[1]}={default} does not come from BASE_IMAGES"
            )
            assert image_is_versioned(default) == ""
        else:
            assert image_is_versioned(image) == "", image
    assert "sha256:" not in dockerfile, "no digest was read from a registry here: none may be written"


def test_base_image_table_is_versioned_and_holds_no_invented_digest() -> None:
    for key, reference in st.BASE_IMAGES.items():
        resolved = reference.format(go_version="1.27.3")
        assert image_is_versioned(resolved) == "", key
        assert "@sha256:" not in resolved, f"{key}: a digest must come from a registry answer, none is reachable here"
    # The checker itself must refuse floating references.
    for floating in ("golang", "golang:latest", "alpine:edge", "gcr.io/distroless/base:nonroot"):
        assert image_is_versioned(floating), floating


def test_go_builder_follows_the_go_version_answer() -> None:
    for go_version in ("1.22", "1.27.3"):
        assert f"ARG GO_IMAGE=golang:{go_version}-alpine" in rendered_dockerfile("scratch", go_version)


def test_generated_renovate_config_pins_digests() -> None:
    project = Path(tempfile.mkdtemp(prefix="renovate-")) / "service"
    try:
        copier_generate(project, {})
        config = json.loads((project / "renovate.json").read_text())
    finally:
        shutil.rmtree(project.parent)
    rules = [config, *config.get("packageRules", [])]

    def covers_base_images(rule: dict[str, Any]) -> bool:
        if rule is config:
            return True
        return "docker" in rule.get("matchDatasources", []) or "dockerfile" in rule.get("matchManagers", [])

    pinning = [rule for rule in rules if rule.get("pinDigests") is True and covers_base_images(rule)]
    assert pinning, "renovate.json must set pinDigests: true for the Dockerfile's base images"
    assert not [rule for rule in rules if rule.get("pinDigests") is False], "a rule turns digest pinning off again"


# -- the verification hook (static: another test file runs it) ------------------

VERIFY_PY = ROOT / "hooks" / "verify.py"
RUNNERS_NEEDING_TIMEOUT = {"run", "call", "check_call", "check_output"}


def subprocess_calls(tree: ast.AST) -> list[ast.Call]:
    """Calls of subprocess functions, however subprocess or its functions were imported."""
    module_names, function_names = {"subprocess"}, {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            module_names |= {a.asname or a.name for a in node.names if a.name == "subprocess"}
        elif isinstance(node, ast.ImportFrom) and node.module == "subprocess":
            function_names |= {a.asname or a.name: a.name for a in node.names}
    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in module_names:
            node.subprocess_function = func.attr  # type: ignore[attr-defined]
            calls.append(node)
        elif isinstance(func, ast.Name) and func.id in function_names:
            node.subprocess_function = function_names[func.id]  # type: ignore[attr-defined]
            calls.append(node)
    return calls


def hook_problems(source: str) -> list[str]:
    """Every shell=True, shell-wrapped argv, os.system/popen and subprocess call without a timeout."""
    tree = ast.parse(source)
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "shell":
            if not (isinstance(node.value, ast.Constant) and node.value.value is False):
                problems.append(f"line {node.value.lineno}: shell={ast.unparse(node.value)}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if isinstance(node.func.value, ast.Name) and node.func.value.id == "os" and node.func.attr in {"system", "popen"}:
                problems.append(f"line {node.lineno}: os.{node.func.attr} runs a shell")
        if isinstance(node, ast.List):
            words = [e.value for e in node.elts if isinstance(e, ast.Constant)]
            if "-c" in words and {"sh", "bash", "/bin/sh", "/bin/bash"} & set(words):
                problems.append(f"line {node.lineno}: a shell -c command line")
    # A Popen (needed to pass a signal on to the child) is bounded when its wait() has a timeout.
    bounded_wait = any(
        isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "wait"
        and any(k.arg == "timeout" for k in node.keywords)
        for node in ast.walk(tree)
    )
    for call in subprocess_calls(tree):
        function = call.subprocess_function  # type: ignore[attr-defined]
        if function == "Popen" and not bounded_wait:
            problems.append(f"line {call.lineno}: subprocess.Popen with no bounded wait(timeout=...)")
        elif function in RUNNERS_NEEDING_TIMEOUT and not any(k.arg == "timeout" for k in call.keywords):
            problems.append(f"line {call.lineno}: subprocess.{function} without a timeout")
    return problems


def test_verification_hook_uses_no_shell_and_bounds_every_command() -> None:
    source = VERIFY_PY.read_text()
    assert subprocess_calls(ast.parse(source)), "verify.py runs commands: the check must find them"
    assert hook_problems(source) == []


@pytest.mark.parametrize(
    "bad",
    [
        "import subprocess\nsubprocess.run(['ls'])\n",
        "import subprocess\nsubprocess.run('ls', shell=True, timeout=5)\n",
        "import subprocess as sp\nsp.check_output(['ls'])\n",
        "from subprocess import run as go\ngo(['ls'])\n",
        "import subprocess\nsubprocess.Popen(['ls'])\n",
        "import subprocess\nsubprocess.Popen(['ls']).wait()\n",
        "import os\nos.system('ls')\n",
        "import subprocess\nsubprocess.run(['sh', '-c', 'ls'], timeout=5)\n",
    ],
)
def test_hook_check_finds_what_it_forbids(bad: str) -> None:
    assert hook_problems(bad), bad


# -- secrets stay out of the build context (Docker) --------------------------------

# Files a developer's checkout may hold that must never reach an image. `.git/x.go`
# and `.idea/y.go` match the allowlist's `!**/*.go`; the ones in internal/ sit in a
# folder the allowlist admits whole.
SECRET_FILES = {
    ".env": "API_TOKEN=secret",
    ".env.production": "API_TOKEN=secret",
    "server.pem": "-----BEGIN PRIVATE KEY-----",
    "tls.key": "-----BEGIN PRIVATE KEY-----",
    "id_rsa": "-----BEGIN OPENSSH PRIVATE KEY-----",
    "id_ed25519.pub": "ssh-ed25519 AAAA",
    ".aws/credentials": "[default]\naws_secret_access_key=secret",
    ".git/config": "[core]",
    ".git/x.go": "package secret",
    ".idea/workspace.xml": "<project/>",
    ".idea/y.go": "package secret",
    ".vscode/settings.json": "{}",
    "foo.swp": "swap",
    "main.go~": "backup",
    "internal/.env": "API_TOKEN=secret",
    "internal/deploy.key": "secret",
    "internal/.idea/z.go": "package secret",
}
# Source the build needs, in package folders, and a test the Dockerfile's checks stage runs.
SOURCE_FILES = {
    "internal/greeting/greeting.go": "package greeting",
    "internal/greeting/greeting_test.go": "package greeting",
    "cmd/tool/main.go": "package main",
}
EXPECTED_CONTEXT = {"go.mod", "main.go", "main_test.go", "internal/greeting/greeting.go",
                    "internal/greeting/greeting_test.go", "cmd/tool/main.go", "scripts/go-checks.sh",
                    ".golangci.yml"}
CONTEXT_LISTING_STAGE = """
# Added by tests/test_hardening.py: export what the build stage received.
FROM scratch AS context-listing
COPY --from=build /src /src
"""
DEFENSE_MARKER = "# Defense in depth"


def uncached_build(docker: str, context: Path, images: dict[str, str], runtime_base: str, *options: str) -> None:
    """docker_build of `context` with the base images overridden, and no cache.

    No cache, because on Docker 20.10.24 (BuildKit) a cached `COPY . .` answered for a
    context whose .dockerignore had changed, in both directions (the build stage of a
    protected project held the secrets of an earlier unprotected build of the same
    files, and the reverse): only an uncached build says what this .dockerignore lets
    through.
    """
    docker_build(docker, context, build_args(images, runtime_base), "--no-cache", *options)


def image_files(docker: str, project: Path, images: dict[str, str], runtime_base: str) -> set[str]:
    """Build the real image (base images overridden by build args) and list its files."""
    tag = f"hardening-{uuid.uuid4().hex[:12]}:test"
    container = tag.split(":")[0]
    try:
        uncached_build(docker, project, images, runtime_base, "-t", tag)
        run([docker, "create", "--name", container, tag], cwd=project, timeout=120)
        exported = subprocess.run([docker, "export", container], capture_output=True, timeout=300, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(exported)) as tar:
            return {m.name for m in tar.getmembers() if not m.isdir()}
    finally:
        subprocess.run([docker, "rm", "-f", container], capture_output=True, timeout=120, check=False)
        subprocess.run([docker, "rmi", "-f", tag], capture_output=True, timeout=120, check=False)


def build_stage_files(docker: str, project: Path, images: dict[str, str], out: Path) -> set[str]:
    """The files the real Dockerfile's build stage has in /src after `COPY . .`.

    Each call builds from a fresh copy of the project, so no copy of a context folder
    that BuildKit kept from an earlier build can answer for this one.
    """
    context = out.parent / f"{out.name}-context"
    shutil.copytree(project, context, symlinks=True)
    listing_dockerfile = out.parent / f"{out.name}.Dockerfile"  # outside the context
    listing_dockerfile.write_text((project / "Dockerfile").read_text() + CONTEXT_LISTING_STAGE)
    try:
        uncached_build(docker, context, images, "scratch", "-f", str(listing_dockerfile),
                       "--target", "context-listing", "--output", f"type=local,dest={out}")
    finally:
        shutil.rmtree(context)
    return {str(p.relative_to(out / "src")) for p in (out / "src").rglob("*") if not p.is_dir()}


@pytest.mark.docker
def test_dockerignore_keeps_secrets_out_of_the_build(
    docker: str, standin_images: dict[str, str], tmp_path: Path
) -> None:
    project = copier_generate(tmp_path / "service", {"runtime_base": "distroless"})
    for name, content in {**SECRET_FILES, **SOURCE_FILES}.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(content + "\n")
    dockerignore = (project / ".dockerignore").read_text()
    assert DEFENSE_MARKER in dockerignore

    received = build_stage_files(docker, project, standin_images, tmp_path / "with-dockerignore")
    # And the service's platform package, whole: the build and its tests need it.
    platform = {path for path in st.template_owned_files({"app_kind": "http"}) if path.startswith("internal/")}
    assert received == EXPECTED_CONTEXT | platform, received
    # The image itself, built with both base images overridden: the binary, none of the files.
    shipped = image_files(docker, project, standin_images, "distroless")
    assert "usr/local/bin/hello-service" in shipped
    secret_names = {Path(name).name for name in SECRET_FILES}
    assert not {f for f in shipped if Path(f).name in secret_names or "/.git/" in f"/{f}"}, "a secret is in the image"

    # Controls: the same check sees the secrets when the protection is missing.
    (project / ".dockerignore").write_text(dockerignore.split(DEFENSE_MARKER)[0])
    allowlist_only = build_stage_files(docker, project, standin_images, tmp_path / "allowlist-only")
    assert {"internal/.env", "internal/deploy.key", "internal/.idea/z.go"} <= allowlist_only, allowlist_only
    (project / ".dockerignore").unlink()
    unprotected = build_stage_files(docker, project, standin_images, tmp_path / "no-dockerignore")
    assert set(SECRET_FILES) <= unprotected, set(SECRET_FILES) - unprotected


# -- the record ------------------------------------------------------------------


def test_zz_record_how_many_cases_ran(request: pytest.FixtureRequest, record_testsuite_property: Any) -> None:
    """Last in this file: prints (and records for JUnit) how many hostile cases ran."""
    assert CASES, "no hostile case ran"
    refused = sum(n for k, n in CASES.items() if k.startswith("refused"))
    rendered = sum(n for k, n in CASES.items() if k.startswith("rendered"))
    validated = sum(n for k, n in CASES.items() if k.startswith("validator"))
    summary = (
        f"hostile answers: {validated} checked by the validators, {refused} refused by copier, "
        f"{rendered} rendered and checked, {CASES['built and tested']} built and tested"
    )
    for key, value in sorted(CASES.items()):
        record_testsuite_property(key.replace(" ", "_"), value)
    request.config.stash.setdefault(SUMMARY_LINES, []).extend(
        [summary, "  " + ", ".join(f"{k}: {v}" for k, v in sorted(CASES.items()))])
    assert refused > 0 and rendered > 0
    assert not CANARY.exists()
    shutil.rmtree(CANARY_DIR, ignore_errors=True)
