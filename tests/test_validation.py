"""Every validator: good values pass, bad ones get a plain-words message and copier writes nothing."""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Any

import pytest

import service_template as st
import yaml

from conftest import COPIER_REFUSAL, ROOT, copier_generate, refusal_problems

QUESTIONS = {k: v for k, v in yaml.safe_load((ROOT / "copier.yml").read_text()).items() if not k.startswith("_")}
# copier turns any text into a bool itself (yes/no/true/false/...), before a validator runs.
COPIER_BOOLS = {name for name, spec in QUESTIONS.items() if spec.get("type") == "bool"}

GOOD = {
    "project_name": ["Billing API", "Zahlungs-Dienst 2", "café"],
    "project_slug": ["billing-api", "a", "svc2"],
    "module_path": ["github.com/acme/billing-api", "example.com/x", "gitlab.example.org/team/sub/svc.v2"],
    "description": ["", "Handles invoices, refunds & receipts."],
    "http_port": ["1", "8080", "65535", 8080],
    "run_as_uid": ["1", "65532", "2147483647", 1000],
    "go_version": ["1.22", "1.27", "1.27.3"],
    "app_kind": ["http", "cli"],
    "runtime_base": ["scratch", "distroless", "alpine"],
    "tzdata": ["none", "embedded", "files"],
    "upx_level": ["fast", "best", "lzma"],
    "upx": [True, False, "true", "no"],
    "ci_provider": ["github", "gitlab", "none"],
    "image_repository": ["ghcr.io/acme/billing-api", "billing-api", "localhost:5000/a/b", "127.0.0.1:5000/x",
                         "registry.gitlab.com/group/sub/proj", "docker.io/library/a__b.c-d", "[::1]:5000/x"],
}

# (question, bad value, a phrase the message must contain). The longest values a user
# could plausibly type are here too: no message quotes the value, so none can grow with it.
BAD = [
    ("project_name", "", "enter a name"),
    ("project_name", "x" * 65, "shorten it to 64"),
    ("project_name", "two\nlines", "one line"),
    ("project_name", 'say "hi"', 'remove "'),
    ("project_name", 'every one: " \\ $ ` { } % < >', 'remove " $ % < > \\ ` { }'),
    ("project_slug", "", "enter a slug"),
    ("project_slug", "Billing", "only a-z, 0-9 and -"),
    ("project_slug", "1svc", "start with a letter"),
    ("project_slug", "a--b", "one - between words"),
    ("project_slug", "svc-", "one - between words"),
    ("project_slug", "a" * 64, "shorten it to 63"),
    ("main_package", "cmd/x", "./cmd/NAME"),
    ("main_package", "./cmd/../..", "./cmd/NAME"),
    ("module_path", "", "enter one"),
    ("module_path", "github.com/acme/billing api", "spaces"),
    ("module_path", "GitHub.com/acme/x", "lowercase"),
    ("module_path", "github.com/acme/x/", "trailing /"),
    ("module_path", "/github.com/acme/x", "leading /"),
    ("module_path", "github.com/../x", ".. and //"),
    ("module_path", "billing", "start with a host"),
    ("module_path", "example/hello", "start with a host"),  # the Go tutorial's path: Go takes it
    ("module_path", "-x.com/a", "fix the host"),
    ("module_path", "github.com/acme/$(id)", "only letters, digits"),
    ("module_path", "github.com/acme/-x", "drop the - or ~"),
    ("module_path", "github.com/acme/con", "rename 'con'"),
    ("module_path", "github.com/acme/lpt9.x", "rename 'lpt9'"),
    ("module_path", "github.com/acme/a~1", "~digits"),
    ("module_path", "github.com/" + "a" * 200, "shorten it to 200"),
    ("description", "costs $5", "remove $"),
    ("description", "`id`", "remove `"),
    ("description", "d" * 201, "shorten it to 200"),
    ("http_port", "0", "from 1 to 65535"),
    ("http_port", "70000", "from 1 to 65535"),
    ("http_port", "http", "from 1 to 65535"),
    ("run_as_uid", "0", "0 is root"),
    ("run_as_uid", "-1", f"from 1 to {st.MAX_UID}"),  # not "from 0": 0 is refused too
    ("run_as_uid", "abc", f"from 1 to {st.MAX_UID}"),
    ("run_as_uid", "2147483648", f"from 1 to {st.MAX_UID}"),
    ("run_as_uid", "9" * 5000, f"from 1 to {st.MAX_UID}"),
    ("go_version", "1.20", f"from 1.{st.MIN_GO_MINOR} to {st.NEWEST_GO}"),
    ("go_version", "1.99", f"from 1.{st.MIN_GO_MINOR} to {st.NEWEST_GO}"),  # no such toolchain yet
    ("go_version", "go1.27", "write 1.N or 1.N.P"),
    ("go_version", "latest", "1.N"),
    ("app_kind", "daemon", "use http or cli"),
    ("runtime_base", "ubuntu", "use scratch, distroless or alpine"),
    ("tzdata", "all", "use embedded, none or files"),
    ("upx_level", "max", "use lzma, best or fast"),
    ("upx", "maybe", "true or false"),
    ("ca_certificates", "maybe", "true or false"),
    ("healthcheck", "maybe", "true or false"),
    ("ci_provider", "jenkins", "use github, gitlab or none"),
    ("image_repository", "", "enter one"),
    ("image_repository", "ghcr.io/acme/billing-api:1.0", "drop the :tag"),
    ("image_repository", "billing-api:latest", "drop the :tag"),
    ("image_repository", "ghcr.io/acme/x@sha256:" + "a" * 64, "drop the @digest"),
    ("image_repository", "ghcr.io/Acme/billing-api", "use lowercase"),
    ("image_repository", "Acme/billing-api", "use lowercase"),
    ("image_repository", "https://ghcr.io/acme/x", "remove the URL scheme"),
    ("image_repository", "ghcr.io/acme/-x", "use a-z, 0-9"),
    ("image_repository", "ghcr.io/acme/a___b", "use a-z, 0-9"),
    ("image_repository", "ghcr.io/acme/x/", "remove the empty part"),
    ("image_repository", "ghcr.io//x", "remove the empty part"),
    ("image_repository", "gh_cr.io/acme/x", "fix the registry host"),
    ("image_repository", "ghcr.io/acme/bill ing", "remove the spaces"),
    ("image_repository", "ghcr.io/" + "a" * 250, "shorten it to 255"),
]



@pytest.mark.parametrize(
    ("name", "value"), [pytest.param(n, v, id=f"{n}={v!r}") for n, vs in GOOD.items() for v in vs]
)
def test_good_values_pass(name: str, value: object) -> None:
    assert st.validation_error(name, value) == ""


@pytest.mark.parametrize(("name", "value", "phrase"), [pytest.param(*case, id=f"{case[0]}={case[1]!r}"[:60]) for case in BAD])
def test_bad_values_get_a_short_message_that_leads_with_the_fix(name: str, value: object, phrase: str) -> None:
    message = st.validation_error(name, value)
    assert phrase in message
    assert refusal_problems(name, message) == []


def test_the_bad_cases_reach_every_message() -> None:
    """Every message the validators can return comes from a case in BAD (found by tracing
    the lines that run), so the length check above measures them all, a new one too."""
    tree = ast.parse(Path(st.__file__).read_text())
    message_lines = {
        node.lineno
        for function in ast.walk(tree) if isinstance(function, ast.FunctionDef) and function.name in VALIDATORS
        for node in ast.walk(function) if isinstance(node, ast.Return) and _may_be_a_message(node.value)
    }
    ran: set[int] = set()

    def trace(frame: Any, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename != st.__file__:
            return None
        if event == "line":
            ran.add(frame.f_lineno)
        return trace

    sys.settrace(trace)
    try:
        for name, value, _ in BAD:
            st.validation_error(name, value)
        st.changed_answer_error("app_kind", "cli", "http")
    finally:
        sys.settrace(None)
    assert len(message_lines) > 25
    assert sorted(message_lines - ran) == [], "messages no case in BAD produces (add one)"


VALIDATORS = {"validation_error", "changed_answer_error", "module_path_error", "_text_error", "_slug_error",
              "_go_version_error"}


def _may_be_a_message(value: ast.expr | None) -> bool:
    """A returned text that is not '' (an f-string, a literal, or `"" if ... else "..."`)."""
    if isinstance(value, ast.IfExp):
        return _may_be_a_message(value.body) or _may_be_a_message(value.orelse)
    return isinstance(value, ast.JoinedStr) or (isinstance(value, ast.Constant) and isinstance(value.value, str) and value.value != "")


@pytest.mark.parametrize(
    "message",
    [
        "run_as_uid 0 is root: a compromised service would own the container and anything mounted into it.",
        "go_version must be a Go release from 1.22 on, written 1.N or 1.N.P",
        "two\nlines",
    ],
)
def test_the_check_refuses_the_old_long_messages(message: str) -> None:
    """Control: the messages the newcomer saw cut at 80 columns fail the same check."""
    assert refusal_problems("run_as_uid", message)


def test_changed_app_kind_message_fits() -> None:
    for recorded, new in (("http", "cli"), ("cli", "http")):
        message = st.changed_answer_error("app_kind", new, recorded)
        assert message.startswith(f"keep {recorded}") and refusal_problems("app_kind", message) == []


@pytest.mark.parametrize(
    ("name", "value", "phrase"),
    [pytest.param(*case, id=f"{case[0]}={case[1]!r}"[:60]) for case in BAD if case[0] not in COPIER_BOOLS],
)
def test_copier_refuses_bad_values_and_writes_nothing(name: str, value: object, phrase: str, tmp_path: Path) -> None:
    destination = tmp_path / "service"
    data = {name: value}
    if name == "upx_level":
        data["upx"] = True
    with pytest.raises(ValueError) as refused:
        copier_generate(destination, data)
    if name in st.CHOICES:
        # copier checks choices itself, before any validator, in its own words.
        assert f"Invalid choice for '{name}'" in str(refused.value)
    else:
        assert phrase in str(refused.value)
        assert str(refused.value) == COPIER_REFUSAL.format(name=name, message=st.validation_error(name, value))
    assert not destination.exists(), "a refused answer must leave no output"


def test_refusal_keeps_an_existing_folder_intact(tmp_path: Path) -> None:
    destination = tmp_path / "service"
    destination.mkdir()
    (destination / "notes.txt").write_text("mine")
    with pytest.raises(ValueError):
        copier_generate(destination, {"run_as_uid": "0"})
    assert [p.name for p in destination.iterdir()] == ["notes.txt"]
    assert (destination / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Billing API", "billing-api"),
        ("  Café  Crème ", "cafe-creme"),
        ("42 Things", "things"),
        ("!!!", "service"),
        ("Billing's CLI", "billings-cli"),  # an apostrophe does not split a word
        ("Billing’s CLI", "billings-cli"),
    ],
)
def test_default_slug_is_derived_from_the_name(name: str, slug: str, tmp_path: Path) -> None:
    assert st.service_slug(name) == slug
    assert st.validation_error("project_slug", slug) == ""


@pytest.mark.parametrize(
    ("module_path", "slug", "image"),
    [
        ("github.com/acme/billing-api", "billing-api", "ghcr.io/acme/billing-api"),
        ("github.com/Acme/Billing-API", "billing-api", "ghcr.io/acme/billing-api"),
        ("gitlab.com/Group/sub/proj", "proj", "registry.gitlab.com/group/sub/proj"),
        ("example.com/team/svc", "svc", "svc"),  # no known registry: a local name
        ("github.com/acme/_x", "x", "x"),  # Docker refuses a component starting with '_'
    ],
)
def test_default_image_repository_is_derived_from_the_module_path(module_path: str, slug: str, image: str) -> None:
    assert st.default_image_repository(module_path, slug) == image
    assert st.validation_error("image_repository", image) == ""


def test_the_derived_image_repository_reaches_the_makefile_and_the_answers(tmp_path: Path) -> None:
    project = copier_generate(tmp_path / "svc", {"module_path": "github.com/Acme/Billing-API"})
    assert "\nIMAGE ?= ghcr.io/acme/billing-api\n" in (project / "Makefile").read_text()
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["image_repository"] == "ghcr.io/acme/billing-api" and answers["ci_provider"] == "github"


@pytest.mark.parametrize(
    ("value", "phrase"),
    [pytest.param(v, p, id=f"{v!r}"[:60]) for n, v, p in BAD if n == "image_repository"]
    + [pytest.param("x" * 300 + ":" + "y" * 300, "", id="long-tag"),
       pytest.param("ghcr.io/" + "Q" * 300, "", id="long-uppercase"),
       pytest.param("h" * 300 + "://x", "", id="long-scheme"),
       pytest.param("a@" + "b" * 300, "", id="long-digest"),
       pytest.param("ghcr.io/acme/" + "-" * 100, "", id="long-component"),
       pytest.param("g_" * 100 + ".io/x", "", id="long-host")],
)
def test_image_repository_messages_lead_with_the_fix_and_fit_80_columns(value: str, phrase: str) -> None:
    """copier shows a validator's message on one line, cut at the terminal's width."""
    message = st.validation_error("image_repository", value)
    assert message and refusal_problems("image_repository", message) == []


def test_a_default_derived_from_a_refused_answer_is_not_reported_again() -> None:
    """cookiecutter reports every bad answer; copier stops at the first. A slug of 'svc-'
    makes the derived image_repository bad too: one message, the slug's."""
    answers = {"project_slug": "svc-", "module_path": "github.com/example/svc-",
               "image_repository": st.default_image_repository("github.com/example/svc-", "svc-")}
    assert [m.split(":")[0] for m in st.refusals(answers)] == ["project_slug"]
    # Control: an image_repository the user typed is still reported beside it.
    typed = {**answers, "image_repository": "ghcr.io/Acme/x"}
    assert [m.split(":")[0] for m in st.refusals(typed)] == ["project_slug", "image_repository"]
