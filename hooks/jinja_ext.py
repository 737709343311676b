"""The Jinja extension both engines load, so templates see the same helpers.

copier:       `_jinja_extensions` in copier.yml (file path, via copier-template-extensions)
cookiecutter: `_extensions` in cookiecutter.json (import path; the repo is on sys.path)
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from jinja2 import Environment
from jinja2.ext import Extension

HOOKS_DIR = Path(__file__).resolve().parent


def _service_template_in(hooks_dir: Path) -> ModuleType:
    """A template release's service_template.py, loaded from its hooks folder by path.

    `copier update` and `cruft update` render the old release and then the new one in
    one process: a plain `import service_template` would hand the new release the old
    release's module (Python caches it by name), so improvements to base images or
    build flags would never reach an updated service. One module per file and content.
    """
    path = hooks_dir / "service_template.py"
    name = f"service_template_{hashlib.sha256(str(path).encode() + path.read_bytes()).hexdigest()[:16]}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None, path
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _current_service_template() -> ModuleType:
    """This release's service_template.py as it is now on disk.

    cookiecutter imports this extension by name, and `cruft update` does it once for
    both releases, moving one clone of the template from the old commit to the new
    one: read at import, the old release's module would render the new release too.
    Looked up at each call, by path and content, the new release's file is used.
    """
    return _service_template_in(HOOKS_DIR)


_GLOBALS = (
    "validation_error",
    "go_image",
    "runtime_image",
    "has_ca_bundle",
    "has_healthcheck",
    "uses_upx",
    "upx_flags",
    "go_flags",
    "go_ldflags",
    "truthy",
    "changed_answer_error",
    "drain_seconds",
    "default_image_repository",
    "image_registry",
    "newest_go",
    "template_owned_files",
    "default_ci_provider",
    "copier_install_command",
)


def recorded_answer(dst_path: Any, answers_file: Any, name: str) -> Any:
    """The answer the service's answers file holds for `name`, or None (a new service,
    or one of copier's throwaway renders of a release during an update)."""
    import yaml

    try:
        recorded = yaml.safe_load(Path(str(dst_path), str(answers_file)).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    return recorded.get(name) if isinstance(recorded, dict) else None


def _per_release(name: str) -> Any:
    """Template global `name`, looked up in the release being rendered at each call."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(_current_service_template(), name)(*args, **kwargs)

    call.__name__ = name
    return call


class GoServiceExtension(Extension):
    """Adds the `service_slug` filter and the helpers in `_GLOBALS` to the environment.

    `template_hooks_dir` tells cookiecutter's hook scripts where this code lives:
    they run from a temporary copy, and cruft's context has no `_repo_dir`.
    """

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["service_slug"] = _per_release("service_slug")
        environment.globals["template_hooks_dir"] = str(HOOKS_DIR)
        environment.globals["recorded_answer"] = recorded_answer
        for name in _GLOBALS:
            environment.globals[name] = _per_release(name)


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
