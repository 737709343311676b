"""The template's own test session, interrupted: SIGTERM (CI's timeout, `kill`) unwinds
it, so the images its fixtures tagged are removed. Control: SIGKILL, which unwinds
nothing, leaves the image (what SIGTERM did before)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from conftest import ROOT, default_signal_handling, run

PROBE = Path(__file__).with_name("session_probe.py")  # not a test_ file: the suite never collects it


@pytest.mark.docker
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "control-SIGKILL"])
def test_a_session_killed_by_sigterm_removes_the_images_its_fixtures_tagged(
    sig: signal.Signals, docker: str, standin_images: dict[str, str]
) -> None:
    tag = f"session-interrupt-{uuid.uuid4().hex[:8]}:probe"
    argv = [sys.executable, "-m", "pytest", "-p", "no:cookies", "-s", "-q", "-p", "no:cacheprovider",
            f"{PROBE.relative_to(ROOT)}::test_probe_holds_a_tagged_image"]
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "MGS_SESSION_INTERRUPT_PROBE": tag},
                            preexec_fn=default_signal_handling)
    try:
        assert proc.stdout is not None
        seen = ""
        for line in proc.stdout:
            seen += line
            if line.startswith("tagged "):
                break
        assert f"tagged {tag}" in seen, seen
        proc.send_signal(sig)
        proc.communicate(timeout=120)
        left = run([docker, "images", "--format", "{{.Repository}}:{{.Tag}}"], cwd=ROOT).stdout.split()
        if sig == signal.SIGTERM:
            assert tag not in left, "the interrupted session left its fixture's image"
        else:
            assert tag in left, "the control: SIGKILL runs no teardown, so the image stays"
    finally:
        if proc.poll() is None:
            proc.kill()
        subprocess.run([docker, "rmi", "-f", tag], capture_output=True, timeout=120, check=False)
