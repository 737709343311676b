"""The Jinja extension both engines load: a stable entry point to the rendering release's helpers.

copier:       `_jinja_extensions` in copier.yml (a file path, via copier-template-extensions)
cookiecutter: `_extensions` in cookiecutter.json (an import path; cruft puts its clone on sys.path)

`cruft update` (and `copier update`) render the service's old release and the new one in one
process. cookiecutter imports an extension by module name, and Python keeps the first module of
that name: the old release's. An extension with its own list of helpers would then serve the new
release the old list, and every helper a release adds would be undefined there (docs/cookiecutter.md).

So this file holds no helpers and no list. Each time an environment is made, it loads the
`jinja_ext.py` that sits beside it *now* (cruft moves one clone from the old commit to the new
one; copier reads each release from its own folder), by path and content, and lets that release's
`install(environment)` add what the release has. A later release changes `jinja_ext.py` and
`service_template.py` as it likes; this file's one contract with them is that call, with that
signature. A change here would not reach an update from an older release (the older entry point
stays cached), so the file stays as it is: tests/test_release_history.py updates from past
commits that have it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from jinja2 import Environment
from jinja2.ext import Extension


def load_release_module(path: Path) -> ModuleType:
    """The module in `path` as the file is now: one module per path and content, so a release
    never receives another release's code, whatever was imported before."""
    digest = hashlib.sha256(str(path).encode() + path.read_bytes()).hexdigest()[:16]
    name = f"release_{path.stem}_{digest}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None, path
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


class ReleaseExtension(Extension):
    """Adds the rendering release's filters and globals (its `jinja_ext.install`)."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        load_release_module(Path(__file__).resolve().parent / "jinja_ext.py").install(environment)
