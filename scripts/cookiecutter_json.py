"""Derive cookiecutter.json from copier.yml, the one list of questions.

    python scripts/cookiecutter_json.py          # rewrite cookiecutter.json
    python scripts/cookiecutter_json.py --check  # exit 1 if it is out of date (tests, CI)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
COPIER_YML = ROOT / "copier.yml"
COOKIECUTTER_JSON = ROOT / "cookiecutter.json"
# cookiecutter imports the shared extension by module path (it puts the repo on sys.path):
# the stable entry point that loads the rendering release's helpers (hooks/release_extension.py).
EXTENSION = "hooks.release_extension.ReleaseExtension"


def questions(copier_config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """copier.yml's questions (keys without a leading underscore), in order."""
    return {name: spec for name, spec in copier_config.items() if not name.startswith("_")}


def cookiecutter_config(copier_config: dict[str, Any]) -> dict[str, Any]:
    """The cookiecutter.json equivalent of copier.yml's questions and Jinja settings."""
    config: dict[str, Any] = {}
    prompts: dict[str, Any] = {}
    for name, spec in questions(copier_config).items():
        default = spec.get("default")
        if "choices" in spec:
            labels = {value: label for label, value in spec["choices"].items()}
            # cookiecutter's default is the first choice. A Jinja default (derived from
            # an earlier answer) is rendered by cookiecutter too, then one of the choices.
            config[name] = [default] + [value for value in labels if value != default]
            choices = {value: labels[value] for value in config[name] if value in labels}
            prompts[name] = {"__prompt__": spec["help"], **choices}
        else:
            config[name] = default
            prompts[name] = spec["help"]
    config["__prompts__"] = prompts
    config["_extensions"] = [EXTENSION]
    # cookiecutter always keeps the trailing newline (and refuses to be told twice).
    envops = dict(copier_config.get("_envops", {}))
    envops.pop("keep_trailing_newline", None)
    config["_jinja2_env_vars"] = envops
    return config


def render(copier_yml: Path = COPIER_YML) -> str:
    return json.dumps(cookiecutter_config(yaml.safe_load(copier_yml.read_text())), indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if cookiecutter.json is out of date")
    args = parser.parse_args()
    wanted = render()
    if args.check:
        if not COOKIECUTTER_JSON.exists() or COOKIECUTTER_JSON.read_text() != wanted:
            print("cookiecutter.json is out of date: run `make cookiecutter-json`", file=sys.stderr)
            return 1
        return 0
    COOKIECUTTER_JSON.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
