"""Who owns which file is one list (TEMPLATE_OWNED and TEAM_OWNED in hooks/service_template.py):
copier.yml's `_skip_if_exists`, docs/updating.md, CHANGELOG.md and the generated README say
the same, and every file a service gets is in it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

import service_template as st
from conftest import ROOT, copier_generate

COPIER = yaml.safe_load((ROOT / "copier.yml").read_text())
ANSWERS_FILE = COPIER["_answers_file"]
# Variants that differ in which files they get (app_kind and main_package move or drop none
# today; a new conditional file adds its answers here).
VARIANTS = [{}, {"app_kind": "cli", "main_package": "./cmd/tool", "ci_provider": "gitlab"}, {"ci_provider": "none"}]


def test_copier_skips_exactly_the_team_files() -> None:
    assert COPIER["_skip_if_exists"] == list(st.TEAM_OWNED)


def test_updating_page_lists_the_same_owners() -> None:
    """The table of docs/updating.md, "Who owns which file": one row per owner."""
    page = (ROOT / "docs" / "updating.md").read_text()
    rows = {line.split("|")[2].strip(): line.split("|")[1] for line in page.splitlines() if line.startswith("| `")}
    named = {owner: re.findall(r"`([^`]+)`", files) for owner, files in rows.items()}
    assert named["the template"] == list(st.TEMPLATE_OWNED)
    assert [name for name in named["your team, from creation on"] if name != "main_package"] == list(st.TEAM_OWNED)


def test_changelog_points_at_the_list_instead_of_repeating_it() -> None:
    """CHANGELOG.md's guide to release notes names no template-owned file list of its own."""
    head = (ROOT / "CHANGELOG.md").read_text().split("\n## [")[0]
    assert "docs/updating.md" in head
    assert not [path for path in st.TEMPLATE_OWNED if f"{path}," in head]


@pytest.mark.parametrize("answers", VARIANTS, ids=lambda a: ",".join(f"{k}={v}" for k, v in a.items()) or "defaults")
def test_every_file_of_a_service_has_an_owner_and_its_readme_lists_the_template_files(
    answers: dict[str, str], tmp_path: Path
) -> None:
    service = copier_generate(tmp_path / "service", answers)
    recorded = yaml.safe_load((service / ANSWERS_FILE).read_text())
    files = sorted(p.relative_to(service).as_posix() for p in service.rglob("*") if p.is_file())
    package = recorded["main_package"].removeprefix("./").removeprefix(".")
    team = {f"{package}/{name}".lstrip("/") if name.endswith(".go") else name for name in st.TEAM_OWNED}
    template = set(st.template_owned_files(recorded))
    assert set(files) == template | team | {ANSWERS_FILE}

    readme = (service / "README.md").read_text()
    section = readme.split("## Keeping up with the template")[1].split("`main.go`, its tests")[0]
    assert re.findall(r"^- `([^`]+)`$", section, re.M) == st.template_owned_files(recorded)


def test_the_ci_files_follow_the_ci_provider_answer() -> None:
    """A conditional entry is listed only where its answer says so; a service made before
    ci_provider (no answer) had GitHub's workflow."""
    github = {".github/workflows/ci.yml", ".github/workflows/template-update.yml", ".github/zizmor.yml"}
    ci_files = github | {".gitlab-ci.yml"}
    listed = {provider: ci_files & set(st.template_owned_files({"ci_provider": provider}))
              for provider in ("github", "gitlab", "none")}
    assert listed == {"github": github, "gitlab": {".gitlab-ci.yml"}, "none": set()}
    assert ci_files & set(st.template_owned_files({})) == listed["github"]
