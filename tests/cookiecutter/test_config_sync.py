"""cookiecutter.json asks what copier.yml asks: same questions, order, defaults, choices and help."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
import yaml

from conftest import ROOT

COPIER = yaml.safe_load((ROOT / "copier.yml").read_text())
QUESTIONS = {name: spec for name, spec in COPIER.items() if not name.startswith("_")}
COOKIECUTTER = json.loads((ROOT / "cookiecutter.json").read_text())
COOKIECUTTER_QUESTIONS = {name: value for name, value in COOKIECUTTER.items() if not name.startswith("_")}


def test_cookiecutter_json_is_generated_from_copier_yml() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "cookiecutter_json.py"), "--check"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr


def test_same_questions_in_the_same_order() -> None:
    assert list(COOKIECUTTER_QUESTIONS) == list(QUESTIONS)


@pytest.mark.parametrize("name", list(QUESTIONS))
def test_question_matches(name: str) -> None:
    """Checked independently of the generator script, so a bug there cannot hide itself."""
    spec: dict[str, Any] = QUESTIONS[name]
    value = COOKIECUTTER_QUESTIONS[name]
    prompt = COOKIECUTTER["__prompts__"][name]
    if "choices" in spec:
        assert isinstance(value, list), "a choice question is a list in cookiecutter.json"
        assert value[0] == spec["default"], "cookiecutter's default is the first choice"
        # A Jinja default (ci_provider's, from module_path) comes first, then every choice.
        choices = [choice for choice in value if "{{" not in choice]
        assert sorted(choices) == sorted(spec["choices"].values())
        assert prompt["__prompt__"] == spec["help"]
        assert {choice: prompt[choice] for choice in choices} == {v: label for label, v in spec["choices"].items()}
    else:
        assert value == spec["default"]
        assert type(value) is type(spec["default"]), "a bool stays a bool (cookiecutter then asks yes/no)"
        assert prompt == spec["help"]


def test_same_jinja_settings_and_extension() -> None:
    envops = {k: v for k, v in COPIER["_envops"].items() if k != "keep_trailing_newline"}
    assert COOKIECUTTER["_jinja2_env_vars"] == envops
    # cookiecutter always keeps the trailing newline; copier must be told to.
    assert COPIER["_envops"]["keep_trailing_newline"] is True
    # Both engines load the one stable entry point (hooks/release_extension.py).
    assert "hooks/release_extension.py:ReleaseExtension" in COPIER["_jinja_extensions"]
    assert COOKIECUTTER["_extensions"] == ["hooks.release_extension.ReleaseExtension"]


def test_cookiecutter_loads_the_shared_extension_without_copier() -> None:
    """cookiecutter users need not install copier: the extension and hooks import without it."""
    code = (
        "import sys, builtins\n"
        "real = builtins.__import__\n"
        "def no_copier(name, *a, **k):\n"
        "    if name.split('.')[0] in {'copier', 'copier_template_extensions'}: raise ImportError(name)\n"
        "    return real(name, *a, **k)\n"
        "builtins.__import__ = no_copier\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "import jinja2, hooks.release_extension as ext\n"
        "env = jinja2.Environment(extensions=[ext.ReleaseExtension])\n"
        "print(env.from_string('{{ \"Billing API\" | service_slug }}').render())\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "billing-api"


@pytest.mark.parametrize(("module_path", "ci_file"), [("gitlab.com/acme/billing", ".gitlab-ci.yml"),
                                                      ("github.com/acme/billing", ".github/workflows/ci.yml")])
def test_the_ci_provider_default_follows_the_module_paths_host(module_path: str, ci_file: str, bake: Any) -> None:
    """cookiecutter renders the Jinja default of a choice too: the same default as copier's."""
    result = bake({"module_path": module_path})
    assert result.exception is None, repr(result.exception)
    assert (result.project_path / ci_file).is_file()
