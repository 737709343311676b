"""The docs site builds with `mkdocs build --strict`: no broken links, no page left out of the nav."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def nav_files(nav) -> list[str]:
    files = []
    for entry in nav:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        files += nav_files(value) if isinstance(value, list) else [value]
    return files


def test_mkdocs_build_strict(tmp_path):
    pytest.importorskip("mkdocs", reason="mkdocs is in the test extra: pip install -e '.[test]'")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    assert (tmp_path / "site" / "index.html").exists()
    assert (tmp_path / "site" / "benchmarks" / "index.html").exists()
    assert (tmp_path / "site" / "img" / "benchmarks.png").exists()


def test_every_page_is_in_the_nav_and_every_nav_entry_exists():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    listed = nav_files(config["nav"])
    pages = sorted(p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md"))
    assert sorted(listed) == pages


def test_questions_page_covers_every_question():
    """docs/questions.md explains every question in copier.yml (the one list of questions)."""
    questions = [k for k in yaml.safe_load((ROOT / "copier.yml").read_text()) if not k.startswith("_")]
    page = (ROOT / "docs" / "questions.md").read_text()
    headings = set(re.findall(r"^## `(\w+)`", page, re.M))
    assert headings == set(questions)


def test_questions_page_states_the_go_bound_the_validator_uses():
    """docs/questions.md names the newest Go release the template accepts: NEWEST_GO."""
    sys.path.insert(0, str(ROOT / "hooks"))
    import service_template as st

    page = " ".join((ROOT / "docs" / "questions.md").read_text().split())
    assert f"from 1.{st.MIN_GO_MINOR} (the code uses `net/http` method patterns) to {st.NEWEST_GO}," in page
