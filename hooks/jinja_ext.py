"""The rendering release's Jinja helpers: `install` adds them to an environment.

Both engines reach this file through `release_extension.py`, which loads it by path and
content each time an environment is made, so the release being rendered always brings its
own helpers (docs/cookiecutter.md). The helpers themselves are pure functions in
`service_template.py`: its TEMPLATE_GLOBALS and TEMPLATE_FILTERS say which ones templates see.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import jinja2
from jinja2 import Environment

HOOKS_DIR = Path(__file__).resolve().parent


def _service_template_in(hooks_dir: Path) -> ModuleType:
    """A template release's service_template.py, loaded from its hooks folder by path.

    release_extension.py loads this file the same way with a copy of its own: the entry
    point depends on nothing, and its call `install(environment)` is fixed by the releases
    that have it (tests/test_release_history.py updates from one).

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

    Read when an environment is made, not when this module is: cruft moves one clone of
    the template from the old commit to the new one, and a release whose jinja_ext.py did
    not change is served by the module the old release loaded.
    """
    return _service_template_in(HOOKS_DIR)


def recorded_answer(dst_path: Any, answers_file: Any, name: str) -> Any:
    """The answer the service's answers file holds for `name`, or None (a new service,
    or one of copier's throwaway renders of a release during an update)."""
    import yaml

    try:
        recorded = yaml.safe_load(Path(str(dst_path), str(answers_file)).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    return recorded.get(name) if isinstance(recorded, dict) else None


@jinja2.pass_context
def service_file(context: Any, name: str) -> str | None:
    """The text of a file of the service being updated, or None (a new service).

    copier names the service (`_copier_conf.dst_path`); cruft updates the service it is
    run in, so there the file is read from the working directory when it holds a
    `.cruft.json` (a plain cookiecutter run makes a new service and reads nothing).
    """
    conf = context.get("_copier_conf")
    if conf is not None:
        folder = Path(str(conf["dst_path"]))
    elif Path(".cruft.json").is_file():
        folder = Path(os.getcwd())
    else:
        return None
    try:
        return (folder / name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def install(environment: Environment) -> None:
    """Add this release's filters and globals to `environment` (release_extension.py's one call).

    `template_hooks_dir` tells cookiecutter's hook scripts where this code lives: they
    run from a temporary copy, and cruft's context has no `_repo_dir`.
    """
    helpers = _current_service_template()
    for name in helpers.TEMPLATE_FILTERS:
        environment.filters[name] = getattr(helpers, name)
    for name in helpers.TEMPLATE_GLOBALS:
        environment.globals[name] = getattr(helpers, name)
    environment.globals["template_hooks_dir"] = str(HOOKS_DIR)
    environment.globals["recorded_answer"] = recorded_answer
    environment.globals["service_file"] = service_file


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
