"""Each question's help says where its answer goes, and only there: checked against a
generated service (the image labels, the README title)."""

from __future__ import annotations

from pathlib import Path

import yaml

from conftest import ROOT, copier_generate, dockerfile_labels

QUESTIONS = {k: v for k, v in yaml.safe_load((ROOT / "copier.yml").read_text()).items() if not k.startswith("_")}
# Answers distinct enough to be found wherever they are written.
ANSWERS = {
    "project_name": "Zeta Name",
    "project_slug": "zeta-slug",
    "module_path": "example.com/zeta/module",
    "description": "Zeta described",
}


def test_help_mentions_a_label_exactly_for_the_answers_in_labels(tmp_path: Path) -> None:
    service = copier_generate(tmp_path / "service", ANSWERS)
    oci = "org.opencontainers.image."
    labels = {key.removeprefix(oci): value for key, value in dockerfile_labels((service / "Dockerfile").read_text()).items()
              if key.startswith(oci)}
    assert labels["title"] == ANSWERS["project_slug"], "the title label is the slug"
    for name, value in ANSWERS.items():
        in_a_label = sorted(label for label, text in labels.items() if value in text)
        help_text = QUESTIONS[name]["help"]
        assert ("label" in help_text) == bool(in_a_label), (name, help_text, in_a_label)
        for label in in_a_label:
            assert f"{label} label" in help_text, (name, label, help_text)


def test_the_readme_title_is_the_project_name(tmp_path: Path) -> None:
    service = copier_generate(tmp_path / "service", ANSWERS)
    assert (service / "README.md").read_text().splitlines()[0] == f"# {ANSWERS['project_name']}"
    assert "README's title" in QUESTIONS["project_name"]["help"]


def test_answers_cookiecutter_ignores_say_so() -> None:
    """copier skips a question whose `when:` is false; cookiecutter asks it anyway, so its
    help says when it is ignored."""
    conditional = [name for name, spec in QUESTIONS.items() if "when" in spec]
    assert conditional
    assert [name for name in conditional if "ignored" not in QUESTIONS[name]["help"]] == []


def test_make_help_shows_no_raw_variable_and_aligns(tmp_path: Path) -> None:
    """`make help` in a service: every line reads as text (no `$(BINARY)`), one column."""
    import subprocess

    for app_kind in ("http", "cli"):
        service = copier_generate(tmp_path / app_kind, {"app_kind": app_kind})
        lines = subprocess.run(["make", "help"], cwd=service, capture_output=True, text=True, timeout=60,
                               check=True).stdout.splitlines()
        assert len(lines) >= 10
        assert [line for line in lines if "$" in line] == []
        columns = {len(line) - len(line[2:].split(" ", 1)[1].lstrip()) for line in lines}
        assert len(columns) == 1, lines
