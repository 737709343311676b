"""The cookiecutter session's helpers (run with `-p no:copie`: pytest-cookies and
pytest-copie both add `--template` and cannot load together).

tests/conftest.py is loaded here too (fixtures `docker`, ...); its plain helpers
are imported by path, because this file is also a module named `conftest`.
"""

from __future__ import annotations

import difflib
import importlib.util
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest

_spec = importlib.util.spec_from_file_location("shared_test_helpers", Path(__file__).resolve().parent.parent / "conftest.py")
assert _spec and _spec.loader
shared = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(shared)

ROOT: Path = shared.ROOT
copier_generate = shared.copier_generate
run = shared.run
need = shared.need
GIT_IDENTITY = shared.GIT_IDENTITY
git = shared.git
cruft_run = shared.cruft_run
cruft_settings = shared.cruft_settings
# The v2 platform fix the copier session's update tests use (conftest.improve_template).
PLATFORM_SERVER = shared.PLATFORM_SERVER
PLATFORM_FIX_ANCHOR = shared.PLATFORM_FIX_ANCHOR
PLATFORM_FIX = shared.PLATFORM_FIX

# copier's own record of the answers; cookiecutter has no counterpart (cruft writes .cruft.json).
COPIER_ONLY = {".copier-answers.yml"}


@pytest.fixture
def bake(cookies: Any, monkeypatch: pytest.MonkeyPatch):
    """`bake(answers)` runs cookiecutter on this template (no prompts) with VERIFY=off.

    cookiecutter runs its hooks as child processes that inherit os.environ, so a
    monkeypatched VERIFY reaches post_gen_project.py (tests may set it again).
    """
    monkeypatch.setenv("VERIFY", "off")

    def _bake(answers: dict[str, Any]) -> Any:
        return cookies.bake(extra_context=answers, template=str(ROOT))

    return _bake


def tree(root: Path, exclude: set[str] = frozenset()) -> dict[str, tuple[int, bytes | None]]:
    """Every path under root (relative) -> (permission bits, bytes; None for folders)."""
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel in exclude:
            continue
        mode = stat.S_IMODE(path.lstat().st_mode)
        found[rel] = (mode, None if path.is_dir() else path.read_bytes())
    return found


def tree_differences(left: Path, right: Path, exclude: set[str] = frozenset(), names: tuple[str, str] = ("a", "b")) -> str:
    """'' when both trees hold the same names, bytes and modes; else a readable report with unified diffs."""
    a, b = tree(left, exclude), tree(right, exclude)
    report = []
    for rel in sorted(set(a) - set(b)):
        report.append(f"only in {names[0]}: {rel}")
    for rel in sorted(set(b) - set(a)):
        report.append(f"only in {names[1]}: {rel}")
    for rel in sorted(set(a) & set(b)):
        (mode_a, bytes_a), (mode_b, bytes_b) = a[rel], b[rel]
        if mode_a != mode_b:
            report.append(f"mode of {rel}: {names[0]} {mode_a:o}, {names[1]} {mode_b:o}")
        if bytes_a != bytes_b:
            diff = difflib.unified_diff(
                (bytes_a or b"").decode(errors="replace").splitlines(keepends=True),
                (bytes_b or b"").decode(errors="replace").splitlines(keepends=True),
                f"{names[0]}/{rel}",
                f"{names[1]}/{rel}",
            )
            report.append("".join(diff) or f"{rel}: bytes differ (line endings or trailing bytes)")
    return "\n".join(report)


def as_cli_strings(answers: dict[str, Any]) -> dict[str, str]:
    """Answers as a command-line user types them: `upx=true`, never a Python bool."""
    return {key: (str(value).lower() if isinstance(value, bool) else str(value)) for key, value in answers.items()}


@pytest.fixture
def cruft_env(tmp_path: Path) -> dict[str, str]:
    return cruft_settings(tmp_path)


def working_tree_files(root: Path) -> list[str]:
    """What a clone of the template would hold now: tracked and new files, minus ignored ones."""
    listed = run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=root).stdout
    return [name for name in listed.split("\0") if name and (root / name).is_file()]


@pytest.fixture
def template_repo(tmp_path: Path) -> Path:
    """A throwaway git repo holding the template's working tree as commit 1."""
    repo = tmp_path / "template"
    for name in working_tree_files(ROOT):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, repo / name)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "template v1")
    return repo


def edit(path: Path, old: str, new: str) -> None:
    """Replace the one `old` in the file with `new` (the shared edit, in this session's form)."""
    shared.edit(path, shared.replace_once(old, new))
