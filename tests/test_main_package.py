"""hooks/main_package.py: where package main goes at creation (and on `copier recopy`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from main_package import place_main


def project_with_root_main(tmp_path: Path) -> Path:
    project = tmp_path / "svc"
    project.mkdir()
    (project / "main.go").write_text("package main // template\n")
    (project / "main_test.go").write_text("package main // template test\n")
    return project


def test_the_root_main_files_move_into_main_package(tmp_path: Path) -> None:
    project = project_with_root_main(tmp_path)
    moved = place_main(project, "./cmd/billing-api")
    assert [p.relative_to(project.resolve()).as_posix() for p in moved] == [
        "cmd/billing-api/main.go", "cmd/billing-api/main_test.go"]
    assert not (project / "main.go").exists() and not (project / "main_test.go").exists()


def test_dot_leaves_them_at_the_root(tmp_path: Path) -> None:
    project = project_with_root_main(tmp_path)
    assert place_main(project, ".") == []
    assert (project / "main.go").exists()


def test_on_recopy_the_teams_file_is_kept_and_the_template_copy_goes(tmp_path: Path) -> None:
    project = project_with_root_main(tmp_path)
    team = project / "cmd" / "app" / "main.go"
    team.parent.mkdir(parents=True)
    team.write_text("package main // the team's\n")
    place_main(project, "./cmd/app")
    assert team.read_text() == "package main // the team's\n"
    assert not (project / "main.go").exists()
    assert (project / "cmd" / "app" / "main_test.go").read_text() == "package main // template test\n"


@pytest.mark.parametrize("outside", ["./..", "./../elsewhere"])
def test_a_folder_outside_the_project_is_refused_and_nothing_moves(tmp_path: Path, outside: str) -> None:
    project = project_with_root_main(tmp_path)
    with pytest.raises(ValueError, match="not a folder inside the project"):
        place_main(project, outside)
    assert (project / "main.go").exists() and (project / "main_test.go").exists()
