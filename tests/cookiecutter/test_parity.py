"""One tree, two engines, identical output: every combination baked by cookiecutter
equals `copier copy` with the same answers, file by file (names, bytes, modes),
copier's answers file aside."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from combos import combinations, params
from conftest import COPIER_ONLY, ROOT, as_cli_strings, copier_generate, tree_differences


def bake_ok(bake: Any, answers: dict[str, Any]) -> Path:
    result = bake(answers)
    assert result.exception is None, f"cookiecutter failed: {result.exception!r}"
    return result.project_path


def assert_same_tree(cookiecutter_dir: Path, copier_dir: Path) -> None:
    differences = tree_differences(cookiecutter_dir, copier_dir, exclude=COPIER_ONLY, names=("cookiecutter", "copier"))
    assert not differences, "the engines' output differs:\n" + differences


def test_every_combination_is_covered() -> None:
    """The parity test walks tests/combos.py; a shrinking matrix should be a decision, not an accident."""
    assert len(combinations()) == 72


@pytest.mark.parametrize("answers", params())
def test_cookiecutter_equals_copier(answers: dict[str, Any], bake: Any, tmp_path: Path) -> None:
    baked = bake_ok(bake, answers)
    copied = copier_generate(tmp_path / "copier", answers)
    assert (copied / ".copier-answers.yml").is_file()
    assert not any((baked / name).exists() for name in COPIER_ONLY), "cookiecutter must not write copier's answers file"
    assert_same_tree(baked, copied)


@pytest.mark.parametrize("answers", params())
def test_answers_typed_as_text_equal_booleans(answers: dict[str, Any], bake: Any) -> None:
    """`cookiecutter --no-input . upx=true` hands over text; the output is the same as with bools."""
    typed = bake_ok(bake, answers)
    as_text = bake_ok(bake, as_cli_strings(answers))
    assert_same_tree(as_text, typed)


@pytest.mark.parametrize(
    ("answers", "copier_equivalent"),
    [
        pytest.param(
            {"app_kind": "cli", "healthcheck": False}, {"app_kind": "cli"}, id="cli-ignores-healthcheck"
        ),
        pytest.param(
            {"runtime_base": "distroless", "ca_certificates": False},
            {"runtime_base": "distroless"},
            id="distroless-always-has-ca",
        ),
        pytest.param({"upx": False, "upx_level": "lzma"}, {"upx": False}, id="no-upx-ignores-level"),
        pytest.param({"app_kind": "cli", "http_port": "9000"}, {"app_kind": "cli"}, id="cli-ignores-port"),
    ],
)
def test_answers_copier_never_asks_change_nothing(
    answers: dict[str, Any], copier_equivalent: dict[str, Any], bake: Any, tmp_path: Path
) -> None:
    """cookiecutter asks every question (it has no `when:`); an answer copier would
    skip must not change the output."""
    baked = bake_ok(bake, answers)
    copied = copier_generate(tmp_path / "copier", copier_equivalent)
    assert_same_tree(baked, copied)


def test_cookiecutter_cli_with_text_answers(tmp_path: Path) -> None:
    """The README's one-liner, with answers on the command line as a user types them."""
    argv = [
        sys.executable, "-m", "cookiecutter", "--no-input", str(ROOT), "-o", str(tmp_path / "cc"),
        "project_name=Billing API", "upx=true", "upx_level=lzma", "healthcheck=no", "tzdata=files",
    ]
    proc = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, "VERIFY": "off"})
    assert proc.returncode == 0, proc.stderr
    copied = copier_generate(
        tmp_path / "copier",
        {"project_name": "Billing API", "upx": True, "upx_level": "lzma", "healthcheck": False, "tzdata": "files"},
    )
    assert_same_tree(tmp_path / "cc" / "billing-api", copied)
    dockerfile = (copied / "Dockerfile").read_text()
    assert "--best --lzma" in dockerfile and "HEALTHCHECK" not in dockerfile


def test_the_comparison_sees_bytes_modes_and_names(tmp_path: Path) -> None:
    """The parity check can fail: a changed byte, a mode bit and an extra file are all reported."""
    left, right = tmp_path / "left", tmp_path / "right"
    for side in (left, right):
        side.mkdir()
        (side / "Makefile").write_text("build:\n\tgo build\n")
        (side / "run.sh").write_text("#!/bin/sh\n")
    (right / "Makefile").write_text("build:\n\tgo build \n")
    (right / "run.sh").chmod(0o755)
    (right / ".copier-answers.yml").write_text("x: 1\n")
    (right / "extra").write_text("")
    report = tree_differences(left, right, exclude=COPIER_ONLY, names=("cookiecutter", "copier"))
    assert "-\tgo build\n+\tgo build \n" in report
    assert "mode of run.sh" in report
    assert "only in copier: extra" in report
    assert ".copier-answers.yml" not in report


def test_templates_read_booleans_only_through_helpers() -> None:
    """A raw `{% if c.upx %}` would take the text "false" as true; the helpers
    (uses_upx, has_healthcheck, has_ca_bundle) read answers through `truthy`."""
    questions = yaml.safe_load((ROOT / "copier.yml").read_text())
    booleans = [name for name, spec in questions.items() if isinstance(spec, dict) and spec.get("type") == "bool"]
    assert booleans, "copier.yml has boolean questions"
    raw_read = re.compile(r"\b(?:c|cookiecutter)\.(?:%s)\b" % "|".join(booleans))
    template_tree = ROOT / "{{cookiecutter.project_slug}}"
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted(template_tree.rglob("*")) if path.is_file()
        for number, line in enumerate(path.read_text().splitlines(), 1) if raw_read.search(line)
    ]
    assert offenders == []
