"""The session test_session_interrupt.py starts and then interrupts: a fixture tags an
image and removes it at teardown, as the Docker fixtures do, and the test waits for the
signal. Named without test_ so that the suite never collects it; the interrupt test
names it on its own command line."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator

import pytest

from conftest import ROOT, STANDIN_IMAGES, run


@pytest.fixture
def tagged_image(docker: str) -> Iterator[str]:
    """A tag of a stand-in image, removed at teardown."""
    tag = os.environ["MGS_SESSION_INTERRUPT_PROBE"]
    run([docker, "tag", STANDIN_IMAGES["alpine"], tag], cwd=ROOT)
    try:
        yield tag
    finally:
        subprocess.run([docker, "rmi", "-f", tag], capture_output=True, timeout=120, check=False)


def test_probe_holds_a_tagged_image(tagged_image: str) -> None:
    print(f"tagged {tagged_image}", flush=True)
    time.sleep(300)  # the signal comes first
