"""Every validator: good values pass, bad ones get a plain-words message and copier writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

import service_template as st
import yaml

from conftest import ROOT, copier_generate

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

# (question, bad value, a phrase the message must contain)
BAD = [
    ("project_name", "", "must not be empty"),
    ("project_name", "x" * 65, "at most 64"),
    ("project_name", "two\nlines", "single line"),
    ("project_name", 'say "hi"', 'must not contain "'),
    ("project_slug", "Billing", "lowercase"),
    ("project_slug", "1svc", "start with a lowercase letter"),
    ("project_slug", "a--b", "single '-'"),
    ("project_slug", "svc-", "single '-'"),
    ("module_path", "", "must not be empty"),
    ("module_path", "github.com/acme/billing api", "spaces"),
    ("module_path", "GitHub.com/acme/x", "must be lowercase"),
    ("module_path", "github.com/acme/x/", "must not end with '/'"),
    ("module_path", "github.com/../x", "'..'"),
    ("module_path", "billing", "host name that contains a dot"),
    ("module_path", "github.com/acme/$(id)", "element '$(id)'"),
    ("description", "costs $5", "must not contain $"),
    ("description", "`id`", "must not contain `"),
    ("http_port", "0", "from 1 to 65535"),
    ("http_port", "70000", "from 1 to 65535"),
    ("http_port", "http", "whole number"),
    ("run_as_uid", "0", "0 is root"),
    ("run_as_uid", "-1", "whole number"),
    ("run_as_uid", "abc", "whole number"),
    ("run_as_uid", "2147483648", "from 0 to 2147483647"),
    ("go_version", "1.20", "from 1.22 on"),
    ("go_version", "go1.27", "written 1.N or 1.N.P"),
    ("go_version", "latest", "1.N"),
    ("app_kind", "daemon", "one of: http, cli"),
    ("runtime_base", "ubuntu", "one of: scratch, distroless, alpine"),
    ("tzdata", "all", "one of: embedded, none, files"),
    ("upx", "maybe", "true or false"),
    ("ci_provider", "jenkins", "one of: github, gitlab, none"),
    ("image_repository", "", "give one"),
    ("image_repository", "ghcr.io/acme/billing-api:1.0", "drop the tag ':1.0'"),
    ("image_repository", "billing-api:latest", "drop the tag ':latest'"),
    ("image_repository", "ghcr.io/acme/x@sha256:" + "a" * 64, "drop the digest"),
    ("image_repository", "ghcr.io/Acme/billing-api", "use lowercase ('acme')"),
    ("image_repository", "Acme/billing-api", "use lowercase"),
    ("image_repository", "https://ghcr.io/acme/x", "drop 'https://'"),
    ("image_repository", "ghcr.io/acme/-x", "fix '-x'"),
    ("image_repository", "ghcr.io/acme/a___b", "fix 'a___b'"),
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
def test_bad_values_get_a_plain_message(name: str, value: object, phrase: str) -> None:
    message = st.validation_error(name, value)
    assert phrase in message
    assert message.startswith(name), "the message names the question"


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
        assert st.validation_error(name, value) in str(refused.value)
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
    [("Billing API", "billing-api"), ("  Café  Crème ", "cafe-creme"), ("42 Things", "things"), ("!!!", "service")],
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
    assert message.startswith("image_repository: "), message
    assert len(message) <= 80, f"{len(message)} columns: {message}"
    assert "\n" not in message


def test_a_default_derived_from_a_refused_answer_is_not_reported_again() -> None:
    """cookiecutter reports every bad answer; copier stops at the first. A slug of 'svc-'
    makes the derived image_repository bad too: one message, the slug's."""
    answers = {"project_slug": "svc-", "module_path": "github.com/example/svc-",
               "image_repository": st.default_image_repository("github.com/example/svc-", "svc-")}
    assert [m.split(" ")[0] for m in st.all_validation_errors(answers)] == ["project_slug"]
    # Control: an image_repository the user typed is still reported beside it.
    typed = {**answers, "image_repository": "ghcr.io/Acme/x"}
    assert [m.split(" ")[0] for m in st.all_validation_errors(typed)] == ["project_slug", "image_repository:"]
