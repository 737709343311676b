"""What docs/production.md and a generated README tell an operator matches the server.

The drain defaults come from hooks/service_template.py (DRAIN_SECONDS), the limits from
the generated main.go; the Kubernetes snippets must be valid YAML that wires the right
probes and a grace period above delay plus timeout.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

import service_template as st
from conftest import ROOT, copier_generate

PAGE = ROOT / "docs" / "production.md"
DELAY, TIMEOUT = st.DRAIN_SECONDS["delay"], st.DRAIN_SECONDS["timeout"]


def yaml_blocks(markdown: str) -> list[Any]:
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", markdown, re.S)]


def settings_table(markdown: str) -> dict[str, str]:
    """`| `NAME` | default | ... |` rows of a settings table."""
    return dict(re.findall(r"^\| `([A-Z_]+)` \| ([^|]+?) \|", markdown, re.M))


def check_pod_spec(pod: dict[str, Any], port: int) -> None:
    assert pod["terminationGracePeriodSeconds"] > DELAY + TIMEOUT
    (container,) = pod["containers"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port}
    assert "lifecycle" not in container, "no preStop hook: the server drains by itself"


def test_production_page_states_the_template_defaults_and_a_working_manifest() -> None:
    text = PAGE.read_text()
    table = settings_table(text)
    assert (table["SHUTDOWN_DELAY"], table["SHUTDOWN_TIMEOUT"]) == (f"{DELAY}s", f"{TIMEOUT}s")
    (deployment,) = yaml_blocks(text)
    pod = deployment["spec"]["template"]["spec"]
    check_pod_spec(pod, 8080)
    env = {item["name"]: item["value"] for item in pod["containers"][0]["env"]}
    assert env == {"SHUTDOWN_DELAY": f"{DELAY}s", "SHUTDOWN_TIMEOUT": f"{TIMEOUT}s"}
    assert deployment["spec"]["selector"]["matchLabels"] == deployment["spec"]["template"]["metadata"]["labels"]


def test_control_a_wrong_grace_period_fails_the_check() -> None:
    (deployment,) = yaml_blocks(PAGE.read_text())
    pod = deployment["spec"]["template"]["spec"]
    pod["terminationGracePeriodSeconds"] = DELAY + TIMEOUT
    with pytest.raises(AssertionError):
        check_pod_spec(pod, 8080)


@pytest.fixture(scope="module")
def http_service(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copier_generate(tmp_path_factory.mktemp("readme") / "svc", {"app_kind": "http", "http_port": "9090"})


def go_int(source: str, name: str) -> int:
    """A constant such as `MaxBodyBytes = 1 << 20` or `MaxRequestIDLength = 128` in internal/platform."""
    match = re.search(rf"\b{name}\s*=\s*(\d+)(?:\s*<<\s*(\d+))?", source)
    assert match, f"{name} not found in internal/platform"
    return int(match[1]) << int(match[2] or 0)


def test_generated_readme_matches_its_server(http_service: Path) -> None:
    readme = (http_service / "README.md").read_text()
    main_go = "".join(path.read_text() for path in sorted((http_service / "internal" / "platform").glob("*.go")))
    table = settings_table(readme)
    assert table == {"PORT": "9090", "SHUTDOWN_DELAY": f"{DELAY}s", "SHUTDOWN_TIMEOUT": f"{TIMEOUT}s", "LOG_LEVEL": "info"}
    for name in table:
        assert f'"{name}"' in main_go, f"internal/platform does not read {name}"
    (pod,) = yaml_blocks(readme)
    check_pod_spec(pod["spec"], 9090)
    assert f"{go_int(main_go, 'MaxHeaderBytes') >> 10} KiB" in readme
    assert f"{go_int(main_go, 'MaxBodyBytes') >> 20} MiB" in readme
    assert f"at most {go_int(main_go, 'MaxRequestIDLength')} characters" in readme


def test_generated_cli_readme_says_how_it_stops(tmp_path: Path) -> None:
    readme = (copier_generate(tmp_path / "tool", {"app_kind": "cli"}) / "README.md").read_text()
    assert "exits 130" in readme and "SHUTDOWN_DELAY" not in readme
