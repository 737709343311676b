"""Put a new service's package main where its `main_package` answer says.

The template writes main.go and main_test.go at the root; for a service created with
main_package=./cmd/billing-api, this moves them there (copier's task and cookiecutter's
post-generation hook run it once, at creation). On update, copier.yml's `_exclude`
keeps a root main.go from coming back.

    python hooks/main_package.py ./cmd/billing-api [--project DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

MAIN_FILES = ("main.go", "main_test.go")


def place_main(project: Path, main_package: str) -> list[Path]:
    """Move the root main files into `main_package`; the paths written (none for `.`).

    A target that exists already is the team's (`copier recopy` renders the root files
    again): it is kept, and the template's root copy goes. Refuses (ValueError,
    nothing moved) a folder outside the project.
    """
    if main_package in ("", "."):
        return []
    folder = (project / main_package).resolve()
    if not folder.is_relative_to(project.resolve()) or folder == project.resolve():
        raise ValueError(f"main_package {main_package!r} is not a folder inside the project")
    moves = [(project / name, folder / name) for name in MAIN_FILES if (project / name).exists()]
    folder.mkdir(parents=True, exist_ok=True)
    for source, target in moves:
        if target.exists():  # `copier recopy`: the team's file is there; the root one is the template's
            source.unlink()
        else:
            source.rename(target)
    return [target for _, target in moves]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("main_package")
    parser.add_argument("--project", type=Path, default=Path.cwd())
    args = parser.parse_args(argv)
    try:
        moved = place_main(args.project, args.main_package)
    except ValueError as exc:
        print(f"main_package: {exc}", file=sys.stderr)
        return 1
    for path in moved:
        print(f"main_package: {path.relative_to(args.project.resolve())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
