"""Answer migrations and update checks: copier runs them from `_migrations` (copier.yml)
before an update.

When a question is renamed between two releases, a service generated with the old
release has the old key in its answers file. Without a migration, `copier update`
would not find an answer under the new name and fall back to the default: a service
on distroless would silently move to scratch. Renaming the key in the answers file
*before* copier reads it again keeps the team's answer.

    python hooks/migrations.py rename-answer .copier-answers.yml base_image runtime_base

The answers file is edited as text, line by line, so its header comment, key order
and quoting stay as copier wrote them; only the key's name changes.
Standard library only (PyYAML is used to double-check when it is importable).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path


class MigrationError(ValueError):
    """The answers file cannot be migrated safely; it is left untouched."""


def _top_level_key_re(key: str) -> re.Pattern[str]:
    # A top-level mapping key starts at column 0; values that span lines are indented,
    # so a line inside one never matches. Quoted keys are matched too.
    quoted = re.escape(key)
    return re.compile(rf"^(?:{quoted}|'{quoted}'|\"{quoted}\")[ \t]*:(?=[ \t]|$)", re.MULTILINE)


def rename_answer(answers_text: str, old: str, new: str) -> str:
    """`answers_text` with the top-level answer `old` renamed to `new`, value unchanged.

    Idempotent: without an `old` key the text comes back as it was (a service that
    was already migrated, or never had the question). When both keys are present,
    `new` is already the answer the new release reads: an error says so rather than
    guessing which value the team meant.
    """
    if not old or not new or old == new:
        raise MigrationError(f"rename_answer needs two different key names (got {old!r} -> {new!r})")
    old_re, new_re = _top_level_key_re(old), _top_level_key_re(new)
    found = old_re.findall(answers_text)
    if not found:
        return answers_text
    if len(found) > 1:
        raise MigrationError(f"the answers file has {old!r} {len(found)} times; fix it by hand, then update")
    if new_re.search(answers_text):
        raise MigrationError(
            f"the answers file has both {old!r} (old name) and {new!r} (new name); "
            f"delete the line you do not mean, commit, and update again"
        )
    migrated = old_re.sub(f"{new}:", answers_text, count=1)
    _check_same_answers(answers_text, migrated, old, new)
    return migrated


def _check_same_answers(before: str, after: str, old: str, new: str) -> None:
    """With PyYAML at hand, prove the edit renamed one key and changed nothing else."""
    try:
        import yaml
    except ImportError:  # pragma: no cover - copier always brings PyYAML
        return
    loaded_before, loaded_after = yaml.safe_load(before) or {}, yaml.safe_load(after) or {}
    expected = {(new if key == old else key): value for key, value in loaded_before.items()}
    if loaded_after != expected:
        raise MigrationError(f"renaming {old!r} to {new!r} would change other answers; the file is left as it was")


def main_package_error(project: Path, recorded: str, asked: str) -> str:
    """Why updating with main_package `asked` (or the `recorded` answer when none is
    asked) would build the wrong package main, or '' when it is safe."""
    wanted = asked or recorded or "."
    if wanted == ".":
        if (project / "main.go").exists():
            return ""
        moved = sorted(
            path.parent.relative_to(project) for path in project.glob("cmd/*/main.go")
        )
        if moved:
            return (
                f"main.go has moved to {moved[0]}/, but main_package still says `.` (the root, which "
                f"has no main.go now): copier update --data main_package=./{moved[0]}"
            )
        return ""
    folder = project / wanted
    if not any(folder.glob("*.go")):
        return (
            f"main_package is {wanted}, which has no Go files: move main.go there first "
            f"(git mv main.go main_test.go {wanted}/), commit, then update"
        )
    return ""


def keep_removed(project: Path) -> list[str]:
    """Put back every tracked file the update deleted; the paths kept.

    copier deletes a file a new release no longer ships, even when the team changed
    it, with no conflict and no message. An update starts from a clean, committed
    tree (copier refuses a dirty one), so a tracked file missing afterwards is one
    the update removed: its committed content comes back, and it is the team's now.
    """
    import subprocess

    deleted = subprocess.run(
        ["git", "ls-files", "--deleted", "-z"], cwd=project, capture_output=True, text=True, check=True, timeout=60
    ).stdout.split("\0")
    kept = [path for path in deleted if path]
    if kept:
        subprocess.run(["git", "checkout", "HEAD", "--", *kept], cwd=project, check=True, timeout=60)
    return kept


PLATFORM_GUIDE = "docs/platform-migration.md"
PLATFORM_IMPORT = "/internal/platform\""


def platform_hint(project: Path, main_package: str) -> str:
    """One line for a service whose package main does not use internal/platform yet
    (made before it: its server is still its own main.go), else ''."""
    folder = project / (main_package or ".")
    sources = [path.read_text(encoding="utf-8", errors="replace") for path in folder.glob("*.go")]
    if not sources or any(PLATFORM_IMPORT in text for text in sources):
        return ""
    return (
        f"internal/platform was added; your {(folder / 'main.go').relative_to(project)} still runs its own server, "
        f"so platform fixes will not reach it until you switch (the template's {PLATFORM_GUIDE})"
    )


def recorded_answer(answers_text: str, key: str) -> str:
    """A top-level answer as text ('' when absent): the answers file is flat YAML."""
    import yaml

    loaded = yaml.safe_load(answers_text) or {}
    value = loaded.get(key, "") if isinstance(loaded, dict) else ""
    return "" if value is None else str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Migrate a service's copier answers file between template releases.")
    commands = parser.add_subparsers(dest="command", required=True)
    rename = commands.add_parser("rename-answer", help="rename one answer, keeping its value")
    rename.add_argument("answers_file", type=Path)
    rename.add_argument("old")
    rename.add_argument("new")
    check = commands.add_parser("check-main-package", help="refuse an update that would build the wrong package main")
    check.add_argument("answers_file", type=Path)
    check.add_argument("asked", help="main_package given with --data ('' when not)")
    commands.add_parser("keep-removed", help="put back files the update deleted (run after an update)")
    hint = commands.add_parser("platform-hint", help="say so when package main does not use internal/platform yet")
    hint.add_argument("answers_file", type=Path)
    args = parser.parse_args(argv)

    if args.command == "keep-removed":
        for path in keep_removed(Path.cwd()):
            print(
                f"kept {path}: this release no longer ships it, and the update would have deleted it. "
                f"It is yours now: `git rm {path}` if you do not need it (see the CHANGELOG)"
            )
        return 0
    if args.command == "platform-hint":
        try:
            recorded = recorded_answer(args.answers_file.read_text(encoding="utf-8"), "main_package")
        except OSError as exc:
            print(f"migration: {exc}", file=sys.stderr)
            return 1
        if message := platform_hint(args.answers_file.resolve().parent, recorded):
            print(message)
        return 0
    if args.command == "check-main-package":
        try:
            recorded = recorded_answer(args.answers_file.read_text(encoding="utf-8"), "main_package")
        except OSError as exc:
            print(f"migration: {exc}", file=sys.stderr)
            return 1
        error = main_package_error(args.answers_file.resolve().parent, recorded, args.asked)
        if error:
            print(f"update refused, nothing changed: {error}", file=sys.stderr)
            return 1
        return 0

    try:
        text = args.answers_file.read_text(encoding="utf-8")
        migrated = rename_answer(text, args.old, args.new)
    except (OSError, MigrationError) as exc:
        print(f"migration: {exc}", file=sys.stderr)
        return 1
    if migrated == text:
        print(f"migration: no {args.old!r} answer in {args.answers_file}; nothing to rename")
        return 0
    args.answers_file.write_text(migrated, encoding="utf-8")
    print(f"migration: renamed answer {args.old!r} to {args.new!r} in {args.answers_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
