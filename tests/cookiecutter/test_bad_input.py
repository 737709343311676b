"""Bad answers: both engines refuse with the same words, and leave nothing behind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cookiecutter.exceptions import FailedHookException, OutputDirExistsException

import service_template as st
from conftest import copier_generate

# (question, bad value) as a user types it; the message is the validator's own.
BAD = [
    ("project_name", ""),
    ("project_name", "   "),
    ("project_name", 'say "hi"'),
    ("project_slug", "Billing"),
    ("project_slug", "9lives"),
    ("project_slug", "a--b"),
    ("project_slug", "svc-"),
    ("module_path", "GitHub.com/acme/x"),
    ("module_path", "github.com/acme/x/"),
    ("module_path", "github.com/../x"),
    ("module_path", "billing"),
    ("module_path", "github.com/acme/billing api"),
    ("description", "costs $5"),
    ("description", "two\nlines"),
    ("description", "a {b} c"),
    ("http_port", "0"),
    ("http_port", "70000"),
    ("http_port", "http"),
    ("run_as_uid", "0"),
    ("run_as_uid", "-1"),
    ("run_as_uid", "abc"),
    ("run_as_uid", "2147483648"),
    ("go_version", "1.20"),
    ("go_version", "go1.27"),
    ("go_version", "latest"),
    ("go_version", "1.99"),
    ("module_path", "example/hello"),
    ("image_repository", "ghcr.io/acme/billing-api:1.0"),
    ("image_repository", "ghcr.io/Acme/billing-api"),
    ("image_repository", "ghcr.io/acme/billing-api@sha256:" + "0" * 64),
    ("image_repository", "https://ghcr.io/acme/billing-api"),
    ("image_repository", "ghcr.io/acme/-billing"),
]


def case_id(name: str, value: str) -> str:
    shown = repr(value)[1:-1] or "empty"
    return f"{name}={shown}"[:48]


@pytest.mark.parametrize(("name", "value"), [pytest.param(n, v, id=case_id(n, v)) for n, v in BAD])
def test_both_engines_refuse_with_the_same_message(
    name: str, value: str, bake: Any, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    message = st.validation_error(name, value)
    assert message, f"{name}={value!r} should be invalid"

    # copier: the question's validator raises before anything is written.
    destination = tmp_path / "copier"
    with pytest.raises(ValueError) as raised:
        copier_generate(destination, {name: value})
    assert str(raised.value) == f"Validation error for question '{name}': {message}"
    assert not destination.exists()

    # cookiecutter: pre_gen_project.py prints the same message and exits 1.
    capfd.readouterr()
    result = bake({name: value})
    stderr = capfd.readouterr().err
    assert isinstance(result.exception, FailedHookException), result.exception
    assert f"error: {name}: {message}\n" in stderr
    assert stderr.count("error: ") == 1, f"only the bad answer is reported:\n{stderr}"
    assert (tmp_path / "cookies" / "bake00").is_dir(), "pytest-cookies bakes into tmp_path/cookies/bakeNN"
    assert written_by_cookiecutter(tmp_path) == []


def written_by_cookiecutter(tmp_path: Path) -> list[str]:
    """Everything under pytest-cookies' output folders (tmp_path/cookies/bakeNN/), which should be nothing."""
    bake_dirs = (tmp_path / "cookies").glob("bake*")
    return sorted(p.relative_to(tmp_path).as_posix() for d in bake_dirs for p in d.rglob("*"))


@pytest.mark.parametrize("value", ["", "a/b", ".."], ids=["empty", "a-slash-b", "dot-dot"])
def test_slug_that_is_not_a_folder_name(value: str, bake: Any, tmp_path: Path) -> None:
    """The slug names cookiecutter's output folder, so cookiecutter trips over these
    before its pre_gen hook runs (with its own message); copier's validator refuses
    them in plain words. Neither writes a file, and nothing outside is touched.

    Known cookiecutter limit: for 'a/b' it creates a/b, runs the hook, and on
    failure deletes only a/b, so an empty folder 'a' remains (docs/cookiecutter.md).
    """
    destination = tmp_path / "copier"
    with pytest.raises(ValueError, match="Validation error for question 'project_slug': "):
        copier_generate(destination, {"project_slug": value})
    assert not destination.exists()

    sentinel = tmp_path / "cookies" / "keep-me"
    sentinel.parent.mkdir(exist_ok=True)
    sentinel.write_text("untouched")
    result = bake({"project_slug": value})
    assert result.exception is not None
    assert isinstance(result.exception, (FailedHookException, OutputDirExistsException)), repr(result.exception)
    leftovers = written_by_cookiecutter(tmp_path)
    assert all((tmp_path / rel).is_dir() and not any((tmp_path / rel).iterdir()) for rel in leftovers), leftovers
    assert leftovers == (["cookies/bake00/a"] if value == "a/b" else [])
    assert sentinel.read_text() == "untouched"


@pytest.mark.parametrize(
    ("name", "value"),
    [("app_kind", "daemon"), ("runtime_base", "ubuntu"), ("tzdata", "all"), ("upx_level", "max"),
     ("ci_provider", "jenkins")],
    ids=lambda v: str(v),
)
def test_an_unknown_choice_is_refused_by_both_engines(name: str, value: str, bake: Any, tmp_path: Path) -> None:
    """Choices are checked by each engine itself, before any validator or hook runs, so the
    wording is the engine's own; both name the value and the valid choices, and write nothing."""
    destination = tmp_path / "copier"
    with pytest.raises(ValueError, match=rf"Invalid choice for '{name}': '{value}' is not in"):
        copier_generate(destination, {name: value})
    assert not destination.exists()

    result = bake({name: value})
    assert isinstance(result.exception, ValueError)
    assert f"{value} provided for choice variable {name}, but the choices are" in str(result.exception)
    assert written_by_cookiecutter(tmp_path) == []


def test_cookiecutter_refuses_a_boolean_it_cannot_read(bake: Any, tmp_path: Path) -> None:
    """`upx=maybe`: cookiecutter refuses it before rendering. (copier casts any text to a
    bool itself before its validator sees it; docs/cookiecutter.md.)"""
    result = bake({"upx": "maybe"})
    assert isinstance(result.exception, ValueError)
    assert "maybe provided for variable upx could not be converted to a boolean" in str(result.exception)
    assert written_by_cookiecutter(tmp_path) == []
