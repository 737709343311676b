"""The Jinja extension both engines load, so templates see the same helpers.

copier:       `_jinja_extensions` in copier.yml (file path, via copier-template-extensions)
cookiecutter: `_extensions` in cookiecutter.json (import path; the repo is on sys.path)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from jinja2 import Environment
from jinja2.ext import Extension

HOOKS_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(HOOKS_DIR))
import service_template  # noqa: E402

_GLOBALS = (
    "validation_error",
    "go_image",
    "runtime_image",
    "has_ca_bundle",
    "has_healthcheck",
    "uses_upx",
    "upx_flags",
    "go_build_flags",
    "truthy",
)


class GoServiceExtension(Extension):
    """Adds the `service_slug` filter and the helpers in `_GLOBALS` to the environment.

    `template_hooks_dir` tells cookiecutter's hook scripts where this code lives:
    they run from a temporary copy, and cruft's context has no `_repo_dir`.
    """

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["service_slug"] = service_template.service_slug
        environment.globals["template_hooks_dir"] = str(HOOKS_DIR)
        for name in _GLOBALS:
            environment.globals[name] = getattr(service_template, name)


try:  # copier only: cookiecutter needs no copier package installed.
    from copier_template_extensions import ContextHook
except ImportError:  # pragma: no cover - exercised by the cookiecutter tests
    ContextHook = None  # type: ignore[assignment,misc]

if ContextHook is not None:

    class CookiecutterContext(ContextHook):  # type: ignore[misc,valid-type]
        """Gives copier templates the `cookiecutter` dict cookiecutter gives its own.

        The one template tree is written with `cookiecutter.*` names; under copier the
        dict is every answer (names without a leading underscore), so it follows the
        question list in copier.yml instead of repeating it.
        """

        def hook(self, context: dict[str, Any]) -> None:
            context["cookiecutter"] = {
                key: value
                for key, value in context.items()
                if not key.startswith("_")
                and key != "cookiecutter"
                and key not in self.environment.globals
                and not callable(value)
            }
