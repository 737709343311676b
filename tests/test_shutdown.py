"""The generated web server as a real process: graceful SIGTERM and slow-header clients.

The project is generated, built with `make build` (the flags the image uses) and
started on a free loopback port. Every wait is bounded; all traffic is to 127.0.0.1.

The generated routes all answer at once, so to hold a request in flight the test
adds one slow route to the copy it builds, next to where `newHandler` registers its
routes; `main`, `serve` and the signal handling are the generated code, untouched.
"""

from __future__ import annotations

import http.client
import re
import select
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import copier_generate, free_port, need, run, wait_for_200

pytestmark = pytest.mark.slow

SLOW_ROUTE = "/test-slow"
SLOW_FOR_SECONDS = 2
START_WAIT = 30.0  # bound on the server's start (not a speed target)
ROUTES_ANCHOR = "\tmux := http.NewServeMux()\n"
SLOW_HANDLER = f"""
	// Added by tests/test_shutdown.py: a request that stays in flight.
	mux.HandleFunc("GET {SLOW_ROUTE}", func(w http.ResponseWriter, r *http.Request) {{
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		time.Sleep({SLOW_FOR_SECONDS} * time.Second)
		fmt.Fprintln(w, "done")
	}})
"""


def go_seconds(source: str, name: str) -> float:
    """A `name = N * time.Second` or `name: N * time.Second` duration in the generated main.go."""
    match = re.search(rf"\b{name}\s*[:=]\s*(\d+) \* time\.Second", source)
    assert match, f"{name} not found in main.go"
    return float(match[1])


@dataclass
class Build:
    binary: Path
    shutdown_timeout: float
    read_header_timeout: float
    read_timeout: float


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    need("go", "builds the generated service")
    project = copier_generate(tmp_path_factory.mktemp("shutdown") / "service", {"app_kind": "http"})
    main_go = project / "main.go"
    source = main_go.read_text()
    assert source.count(ROUTES_ANCHOR) == 1, "newHandler changed: update the anchor for the slow route"
    main_go.write_text(source.replace(ROUTES_ANCHOR, ROUTES_ANCHOR + SLOW_HANDLER))
    run(["make", "build"], cwd=project, timeout=300, env={"GOTOOLCHAIN": "local", "GOPROXY": "off"})
    return Build(
        binary=project / "bin" / "hello-service",
        shutdown_timeout=go_seconds(source, "shutdownTimeout"),
        read_header_timeout=go_seconds(source, "ReadHeaderTimeout"),
        read_timeout=go_seconds(source, "ReadTimeout"),
    )


@dataclass
class Server:
    proc: subprocess.Popen[str]
    port: int
    output: list[str]

    def connect(self, timeout: float = 10) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)


@pytest.fixture
def server(build: Build) -> Iterator[Server]:
    port = free_port()
    proc = subprocess.Popen(
        [str(build.binary)], env={"PORT": str(port)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(proc.stdout or []), daemon=True)
    reader.start()
    try:
        assert wait_for_200(f"http://127.0.0.1:{port}/healthz", START_WAIT) is not None, f"no answer on :{port}: {output}"
        yield Server(proc, port, output)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        reader.join(timeout=10)


def test_sigterm_lets_the_in_flight_request_finish_and_exits_0(server: Server, build: Build) -> None:
    slow = server.connect(timeout=build.shutdown_timeout)
    slow.request("GET", SLOW_ROUTE)
    response = slow.getresponse()  # the headers are flushed: the handler is now running
    assert response.status == 200

    server.proc.send_signal(signal.SIGTERM)
    assert response.read() == b"done\n", "the in-flight request was cut off"
    assert server.proc.wait(timeout=build.shutdown_timeout) == 0
    log = "".join(server.output)
    assert log.index('"shutting down"') < log.index('"stopped"'), log
    # Shut down means shut: nothing listens any more.
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=5).close()


def test_no_new_connections_while_draining(server: Server, build: Build) -> None:
    slow = server.connect(timeout=build.shutdown_timeout)
    slow.request("GET", SLOW_ROUTE)
    response = slow.getresponse()
    server.proc.send_signal(signal.SIGTERM)
    # While the slow request drains, the listener is closed: a new client is refused.
    refused = False
    deadline = time.monotonic() + SLOW_FOR_SECONDS
    while time.monotonic() < deadline and not refused:
        try:
            socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
            time.sleep(0.05)
        except OSError:
            refused = True
    assert refused, "the server still accepted connections after SIGTERM"
    assert response.read() == b"done\n"
    assert server.proc.wait(timeout=build.shutdown_timeout) == 0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_idle_server_stops_cleanly(server: Server, build: Build, signum: int) -> None:
    server.proc.send_signal(signum)
    assert server.proc.wait(timeout=build.shutdown_timeout) == 0
    assert '"stopped"' in "".join(server.output)


def test_slow_header_client_is_cut_off(server: Server, build: Build) -> None:
    """A slowloris client trickles header bytes to keep a connection: ReadHeaderTimeout ends it.

    It keeps sending, so an idle timeout would never fire; and the bound lies well below
    ReadTimeout, so only the header deadline can be what closes the connection.
    """
    bound = (build.read_header_timeout + build.read_timeout) / 2
    assert bound > build.read_header_timeout + 2, "the two timeouts are too close to tell apart"
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as client:
        client.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        started = time.monotonic()
        closed_after, answer = None, b""
        while time.monotonic() - started < bound:
            try:
                client.sendall(b"a")
            except OSError:
                closed_after = time.monotonic() - started
                break
            readable, _, _ = select.select([client], [], [], 0.5)
            if readable:
                try:
                    chunk = client.recv(4096)
                except OSError:
                    chunk = b""
                answer += chunk
                if not chunk:
                    closed_after = time.monotonic() - started
                    break
        assert closed_after is not None, f"a client still sending headers after {bound:.0f}s was not cut off"
        assert not answer.startswith(b"HTTP/1.1 200"), answer
    # Other clients are unaffected.
    healthy = server.connect()
    healthy.request("GET", "/healthz")
    assert healthy.getresponse().status == 200
