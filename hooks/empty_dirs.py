"""Remove the folders a new service's template left empty.

A file whose name renders empty is not written (both engines: that is how a file is
made conditional, e.g. the CI file of the ci_provider not chosen), but both engines
still create the folders on its path, such as .github/workflows for a GitLab service.
copier's task and cookiecutter's post-generation hook run this once, at creation.

    python hooks/empty_dirs.py [--project DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def remove_empty_dirs(project: Path) -> list[Path]:
    """Delete every empty folder below `project` (deepest first, so a folder holding only
    empty folders goes too); the folders removed. `.git` is never entered."""
    removed: list[Path] = []
    for folder in sorted((p for p in project.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if ".git" in folder.relative_to(project).parts or folder.is_symlink():
            continue
        if not any(folder.iterdir()):
            folder.rmdir()
            removed.append(folder)
    return removed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=Path.cwd())
    remove_empty_dirs(parser.parse_args(argv).project)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
