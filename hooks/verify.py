"""The verification at creation: run the new service's own `scripts/verify.sh`.

Run by copier (a `_tasks` entry, only on `copy`) and by cookiecutter
(`post_gen_project.py`), in the generated project's folder. What "verified" means
lives in the service itself (scripts/verify.sh, which `make verify` and its CI run
too); this shell only decides what the result means for the generation:

    VERIFY=on (default)  run; report problems, but never fail the generation
    VERIFY=strict        exit 1 if any step failed or was skipped (the engines then
                         remove the new project: copier --no-cleanup keeps it)
    VERIFY=off           do nothing

GO_IMAGE, RUNTIME_IMAGE, DOCKER and VERIFY_DOCKER_NETWORK pass through to the script.
Ctrl-C or SIGTERM stops the script, which removes what it made (exit 130).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SCRIPT = Path("scripts", "verify.sh")
MODES = ("on", "off", "strict")
# The longest a verification may take: a cold build with UPX --best is a few minutes here.
SCRIPT_TIMEOUT = 3600


def closing_line(status: int, mode: str) -> str:
    """What the script's exit status means for the new project, in one line ('' when verified)."""
    if status in (0, 130):  # verified, or interrupted (the script said so)
        return ""
    if mode == "strict":
        return (
            "verify: not verified with VERIFY=strict: exit 1 (copier then removes the new project "
            "unless run with --no-cleanup; cookiecutter unless --keep-project-on-failure)"
        )
    return "verify: the project is kept. Fix it and run `make verify`; VERIFY=strict makes this an error"


def exit_code(status: int, mode: str) -> int:
    """Only strict mode fails: a failing task makes copier delete the new project."""
    if status == 130:
        return 130
    return 1 if mode == "strict" and status != 0 else 0


def run_script(project: Path, mode: str) -> int:
    """The service's verification, its output passed straight through; its exit status."""
    bash = shutil.which("bash")
    if bash is None:
        print("verify: skipped: bash not found; run `make verify` in the project where bash is")
        return 1
    child = subprocess.Popen([bash, str(SCRIPT)], cwd=project, env={**os.environ, "VERIFY": mode})

    def forward(signum: int, _frame: Any) -> None:
        child.send_signal(signum)

    previous = signal.signal(signal.SIGTERM, forward)
    deadline, stopping = time.monotonic() + SCRIPT_TIMEOUT, False
    try:
        while True:
            try:
                return child.wait(timeout=max(deadline - time.monotonic(), 0))
            except KeyboardInterrupt:  # Ctrl-C reached the script too; wait for its cleanup
                continue
            except subprocess.TimeoutExpired:
                if stopping:  # it did not finish its cleanup in time either
                    child.kill()
                    return child.wait()
                print(f"verify: gave up after {SCRIPT_TIMEOUT} s; stopping it (it removes what it made)")
                child.terminate()
                stopping, deadline = True, time.monotonic() + 120
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=Path.cwd(), help="the generated project (default: .)")
    args = parser.parse_args(argv)
    mode = os.environ.get("VERIFY", "on").strip().lower() or "on"
    if mode not in MODES:
        print(f"verify: VERIFY must be on, off or strict (got {mode!r})", file=sys.stderr)
        return 2
    if mode == "off":
        print("verify: skipped (VERIFY=off); run `make verify` in the project to check it later")
        return 0
    status = run_script(args.project.resolve(), mode)
    if line := closing_line(status, mode):
        print(line)
    return exit_code(status, mode)


if __name__ == "__main__":
    sys.exit(main())
