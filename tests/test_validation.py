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
