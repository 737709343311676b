"""A rolling deploy's view of one instance: keep-alive clients under load, then SIGTERM.

Used against the built binary (test_shutdown.py) and against the image (test_e2e_docker.py).
The clients act like the callers behind a load balancer: they keep sending until the
instance's readiness stops answering 200, plus a margin for the balancer to take it out
of rotation, and then stop. Every request sent in that window must get a complete 200.
Everything is bounded in count and time, and all traffic is on loopback.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

CLIENTS = 64
REMOVAL_MARGIN = 0.5  # seconds from readiness failing until the balancer stops sending
BOUND = 60.0  # no part of a run waits longer than this (not a speed target)


@dataclass
class DrainRun:
    counts: Counter[str] = field(default_factory=Counter)  # ok, reset, refused, other
    examples: list[str] = field(default_factory=list)  # the first few failures, for the report
    unready_after: float | None = None  # seconds from the signal to readiness failing

    @property
    def lost(self) -> int:
        return sum(n for kind, n in self.counts.items() if kind != "ok")

    def report(self) -> str:
        flip = "never" if self.unready_after is None else f"{self.unready_after * 1000:.0f} ms"
        return (f"{self.counts['ok']} complete 200s, {self.counts['reset']} reset, {self.counts['refused']} refused, "
                f"{self.counts['other']} other; readiness failed {flip} after the signal; {self.examples[:3]}")


def readiness(port: int) -> int | None:
    """/readyz's status on a new connection, as a balancer's health check sees it; None when refused."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/readyz")
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()


def load_and_drain(port: int, send_signal: Callable[[], None], expected_body: bytes, *,
                   clients: int = CLIENTS, load_before_signal: float = 1.0) -> DrainRun:
    result = DrainRun()
    lock = threading.Lock()
    stop = threading.Event()

    def record(kind: str, detail: str = "") -> None:
        with lock:
            result.counts[kind] += 1
            if kind != "ok" and len(result.examples) < 10:
                result.examples.append(f"{kind}: {detail}")

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)  # keep-alive, reconnects when closed
        while not stop.is_set():
            try:
                conn.request("GET", "/")
                response = conn.getresponse()
                body = response.read()
                if response.status == 200 and body == expected_body:
                    record("ok")
                else:
                    record("other", f"{response.status} {body[:60]!r}")
            except ConnectionRefusedError as exc:
                record("refused", repr(exc))
                conn.close()
            except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected,
                    http.client.IncompleteRead) as exc:
                record("reset", repr(exc))
                conn.close()
            except OSError as exc:
                record("other", repr(exc))
                conn.close()
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(load_before_signal)
        signalled = time.monotonic()
        send_signal()
        # The balancer's health check, on its own connections: any answer but 200 takes the
        # instance out of rotation (a refused connection too, for a server that stops at once).
        while time.monotonic() - signalled < BOUND:
            if readiness(port) != 200:
                result.unready_after = time.monotonic() - signalled
                break
            time.sleep(0.01)
        time.sleep(REMOVAL_MARGIN)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=BOUND)
    assert not any(thread.is_alive() for thread in threads), "a client thread hung"
    return result


def readiness_flip(port: int, send_signal: Callable[[], None]) -> tuple[float, int | None]:
    """Seconds from the signal until /readyz first answers other than 200, with no other
    load, and that answer (None: refused)."""
    signalled = time.monotonic()
    send_signal()
    while (status := readiness(port)) == 200:
        assert time.monotonic() - signalled < BOUND, f"/readyz still answers 200 {BOUND:.0f} s after the signal"
    return time.monotonic() - signalled, status
