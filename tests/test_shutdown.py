"""The generated web server as a real process: a rolling deploy's drain, graceful
shutdown, the access log, panics, and slow-header clients.

The project is generated, built with `make build` (the flags the image uses) and
started on a free loopback port. Every wait is bounded; all traffic is to 127.0.0.1.

The generated routes all answer at once, so to hold a request in flight, and to
panic, the test adds two routes to the copy it builds, next to where main.go's
`routes` registers its own; internal/platform (settings, `Serve`, the middleware,
the log and the signal handling) is the generated code, untouched.
"""

from __future__ import annotations

import http.client
import json
import re
import select
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import service_template as st
from conftest import copier_generate, default_signal_handling, free_port, need, run, wait_for_200
from drain import load_and_drain, readiness_flip

pytestmark = pytest.mark.slow

SLOW_ROUTE = "/test-slow"
PANIC_ROUTE = "/test-panic"
SLOW_FOR_SECONDS = 2
START_WAIT = 30.0  # bound on the server's start (not a speed target)
ROUTES_ANCHOR = "\tmux := http.NewServeMux()\n"
IMPORTS_ANCHOR = '\t"net/http"\n'
TEST_IMPORTS = '\t"fmt"\n\t"net/http"\n\t"time"\n'
PLATFORM = Path("internal/platform")
SLOW_HANDLER = f"""
	// Added by tests/test_shutdown.py: a request that stays in flight.
	mux.HandleFunc("GET {SLOW_ROUTE}", func(w http.ResponseWriter, r *http.Request) {{
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		time.Sleep({SLOW_FOR_SECONDS} * time.Second)
		fmt.Fprintln(w, "done")
	}})
	mux.HandleFunc("GET {PANIC_ROUTE}", func(w http.ResponseWriter, r *http.Request) {{
		panic("test panic")
	}})
"""
HELLO = b"Hello from hello-service\n"
# The drain tests' settings: a delay long enough to outlast the balancer's margin, and a
# timeout; the process must exit 0 within their sum.
DRAIN_ENV = {"SHUTDOWN_DELAY": "3s", "SHUTDOWN_TIMEOUT": "5s"}
DRAIN_SECONDS = 3 + 5


def go_seconds(source: str, name: str) -> float:
    """A `name = N * time.Second` or `name: N * time.Second` duration in the generated platform package."""
    match = re.search(rf"\b{name}\s*[:=]\s*(\d+) \* time\.Second", source)
    assert match, f"{name} not found in internal/platform"
    return float(match[1])


@dataclass
class Build:
    binary: Path
    shutdown_timeout: float
    shutdown_delay: float
    read_header_timeout: float
    request_timeout: float


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    need("go", "builds the generated service")
    project = copier_generate(tmp_path_factory.mktemp("shutdown") / "service", {"app_kind": "http"})
    main_go = project / "main.go"
    source = main_go.read_text()
    assert source.count(ROUTES_ANCHOR) == 1, "routes changed: update the anchor for the test routes"
    assert source.count(IMPORTS_ANCHOR) == 1, "main.go's imports changed: update the anchor"
    main_go.write_text(source.replace(ROUTES_ANCHOR, ROUTES_ANCHOR + SLOW_HANDLER).replace(IMPORTS_ANCHOR, TEST_IMPORTS))
    platform = "".join(path.read_text() for path in sorted((project / PLATFORM).glob("*.go")))
    run(["make", "build"], cwd=project, timeout=300, env={"GOTOOLCHAIN": "local", "GOPROXY": "off"})
    return Build(
        binary=project / "bin" / "hello-service",
        shutdown_timeout=go_seconds(platform, "DefaultShutdownTimeout"),
        shutdown_delay=go_seconds(platform, "DefaultShutdownDelay"),
        read_header_timeout=go_seconds(platform, "ReadHeaderTimeout"),
        request_timeout=go_seconds(platform, "RequestTimeout"),
    )


@dataclass
class Server:
    proc: subprocess.Popen[str]
    port: int
    output: list[str]

    def connect(self, timeout: float = 10) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def log(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.output if line.startswith("{")]

    def requests_logged(self) -> list[dict[str, object]]:
        return [line for line in self.log() if line.get("msg") == "request"]


@pytest.fixture
def start(build: Build) -> Iterator[Callable[..., Server]]:
    """Start the built server with extra environment; the classic shutdown tests run
    with no drain delay (SHUTDOWN_DELAY=0), the drain tests set their own."""
    procs: list[tuple[subprocess.Popen[str], threading.Thread]] = []

    def start_server(**env: str) -> Server:
        port = free_port()
        proc = subprocess.Popen([str(build.binary)], env={"PORT": str(port), "SHUTDOWN_DELAY": "0", **env},
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                preexec_fn=default_signal_handling)
        output: list[str] = []
        reader = threading.Thread(target=lambda: output.extend(proc.stdout or []), daemon=True)
        reader.start()
        procs.append((proc, reader))
        assert wait_for_200(f"http://127.0.0.1:{port}/healthz", START_WAIT) is not None, f"no answer on :{port}: {output}"
        return Server(proc, port, output)

    yield start_server
    for proc, reader in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        reader.join(timeout=10)


@pytest.fixture
def server(start: Callable[..., Server]) -> Server:
    return start()


def test_platform_drain_defaults_come_from_the_template_and_fit_kubernetes(build: Build) -> None:
    """internal/platform's defaults are DRAIN_SECONDS (which the README and docs state), and their
    sum stays below Kubernetes' default grace period, 30 s."""
    assert (build.shutdown_delay, build.shutdown_timeout) == (st.DRAIN_SECONDS["delay"], st.DRAIN_SECONDS["timeout"])
    assert 0 < build.shutdown_delay and build.shutdown_delay + build.shutdown_timeout < 30


# -- a rolling deploy ----------------------------------------------------------------


@pytest.mark.parametrize("env, drains", [(DRAIN_ENV, True), ({"SHUTDOWN_DELAY": "0"}, False)],
                         ids=["drain-delay", "control-no-delay"])
def test_rolling_deploy_loses_no_request(start: Callable[..., Server], env: dict[str, str], drains: bool) -> None:
    """64 keep-alive clients, SIGTERM mid-load, clients stop once readiness fails plus a
    margin: with the drain, every request gets a complete 200; without it (the control),
    requests are refused or their connections reset."""
    server = start(**env)
    result = load_and_drain(server.port, lambda: server.signal(signal.SIGTERM), HELLO)
    print(f"\n{'drain' if drains else 'control'}: {result.report()}")
    assert server.proc.wait(timeout=DRAIN_SECONDS) == 0
    assert result.counts["ok"] > 0, result.report()
    if drains:
        assert result.lost == 0, result.report()
    else:
        assert result.counts["refused"] + result.counts["reset"] > 0, "the control lost nothing: " + result.report()


def test_readiness_fails_within_100ms_of_sigterm_while_serving_on(start: Callable[..., Server]) -> None:
    server = start(**DRAIN_ENV)
    took, status = readiness_flip(server.port, lambda: server.signal(signal.SIGTERM))
    assert status == 503 and took < 0.1, f"/readyz answered {status} {took * 1000:.0f} ms after SIGTERM"
    # Still serving during the delay, each response closing its connection.
    client = server.connect()
    client.request("GET", "/")
    response = client.getresponse()
    assert (response.status, response.read(), response.getheader("Connection")) == (200, HELLO, "close")
    assert server.proc.wait(timeout=DRAIN_SECONDS) == 0
    messages = [line["msg"] for line in server.log()]
    assert messages.index("draining") < messages.index("shutting down") < messages.index("stopped"), messages


@pytest.mark.parametrize("signals", [(signal.SIGTERM, signal.SIGTERM), (signal.SIGTERM, signal.SIGINT), (signal.SIGINT,)],
                         ids=["second-SIGTERM", "SIGTERM-then-Ctrl-C", "Ctrl-C"])
def test_ctrl_c_or_a_second_signal_skips_the_delay(start: Callable[..., Server], signals: tuple[int, ...]) -> None:
    """A delay of an hour: only skipping it lets the process exit within the bound."""
    server = start(SHUTDOWN_DELAY="1h", SHUTDOWN_TIMEOUT="5s")
    readiness_flip(server.port, lambda: server.signal(signals[0]))  # the drain (or, for Ctrl-C, the stop) began
    for signum in signals[1:]:
        server.signal(signum)
    assert server.proc.wait(timeout=10) == 0, "".join(server.output)


def test_control_one_sigterm_keeps_serving_through_the_delay(start: Callable[..., Server]) -> None:
    """The control for the test above: without a second signal the hour's delay holds."""
    server = start(SHUTDOWN_DELAY="1h")
    readiness_flip(server.port, lambda: server.signal(signal.SIGTERM))
    with pytest.raises(subprocess.TimeoutExpired):
        server.proc.wait(timeout=2)
    client = server.connect()
    client.request("GET", "/")
    assert client.getresponse().status == 200


# -- the access log, panics, limits ----------------------------------------------------


@pytest.mark.parametrize("level, probes_logged", [("", False), ("debug", True)], ids=["default-level", "LOG_LEVEL=debug"])
def test_each_request_logs_one_json_line_with_its_request_id(start: Callable[..., Server], level: str,
                                                             probes_logged: bool) -> None:
    """Sane request IDs are kept and others replaced; an error response (here a 404)
    carries the ID its line has, and a successful one carries none."""
    server = start(LOG_LEVEL=level) if level else start()
    sent = {"caller-id-123": True, "x" * 129: False, "has space": False, "ünicode": False, "": False}
    answered = {}
    client = server.connect()
    for request_id in [*sent, "on-a-success"]:
        client.putrequest("GET", "/" if request_id == "on-a-success" else "/missing")
        if request_id:
            client.putheader("X-Request-ID", request_id.encode())
        client.endheaders()
        response = client.getresponse()
        response.read()
        answered[request_id] = response.getheader("X-Request-ID")
    client.request("GET", "/healthz")
    client.getresponse().read()
    client.close()
    server.signal(signal.SIGTERM)
    assert server.proc.wait(timeout=DRAIN_SECONDS) == 0

    logged = server.requests_logged()
    # The start-up wait's probes come first: the log keeps the order requests ended in
    # (access lines may reach stdout up to FlushInterval later than the response).
    logged = logged[next(i for i, line in enumerate(logged) if line["path"] == "/missing"):]
    assert len(logged) == len(sent) + 1 + probes_logged, logged
    for (request_id, kept), line in zip(sent.items(), logged):
        assert (answered[request_id] == request_id) == kept, (request_id, answered[request_id])
        assert line["request_id"] == answered[request_id]
        assert re.fullmatch(r"[!-~]{1,128}", answered[request_id])
        assert {k: line[k] for k in ("method", "path", "status", "bytes")} == {
            "method": "GET", "path": "/missing", "status": 404, "bytes": len("404 page not found\n")}
        assert isinstance(line["duration_ms"], float) and line["remote"].startswith("127.0.0.1:")
    success = logged[len(sent)]
    assert answered["on-a-success"] is None and success["request_id"] == "on-a-success", success
    assert {k: success[k] for k in ("path", "status", "bytes")} == {"path": "/", "status": 200, "bytes": len(HELLO)}


LINES = 300  # requests whose access lines must all reach stdout


def serve_many(server: Server, count: int = LINES) -> None:
    client = server.connect()
    for _ in range(count):
        client.request("GET", "/")
        response = client.getresponse()
        assert response.status == 200 and response.read() == HELLO
    client.close()


def lines_for_root(server: Server) -> int:
    return sum(1 for line in server.requests_logged() if line["path"] == "/")


@pytest.mark.parametrize("how", ["SIGTERM-drain", "SIGINT", "fatal-shutdown-timeout"])
def test_no_buffered_access_line_is_lost_at_exit(start: Callable[..., Server], build: Build, how: str) -> None:
    """Access lines wait in a buffer (FlushInterval); each way out writes them first. The
    signal follows the last response at once, well inside one flush interval."""
    if how == "fatal-shutdown-timeout":
        # A request still in flight when the shutdown timeout ends: Serve fails, exit 1.
        server = start(SHUTDOWN_DELAY="0", SHUTDOWN_TIMEOUT="200ms")
        slow = server.connect(timeout=10)
        slow.request("GET", SLOW_ROUTE)
        assert slow.getresponse().status == 200
    else:
        server = start(**({"SHUTDOWN_DELAY": "1s"} if how == "SIGTERM-drain" else {}))
    serve_many(server)
    server.signal(signal.SIGINT if how == "SIGINT" else signal.SIGTERM)
    assert server.proc.wait(timeout=DRAIN_SECONDS) == (1 if how.startswith("fatal") else 0), "".join(server.output)
    time.sleep(0.2)  # the reader thread takes the rest of the pipe
    assert lines_for_root(server) == LINES, f"{lines_for_root(server)} of {LINES} access lines written"
    if how.startswith("fatal"):
        assert server.log()[-1]["msg"] == "serve" and server.log()[-1]["level"] == "ERROR"


def test_control_sigkill_loses_the_buffered_lines(start: Callable[..., Server]) -> None:
    """The control for the test above: the lines really wait in memory. SIGKILL, which no
    process can handle, right after the last response finds some still unwritten."""
    server = start()
    serve_many(server)
    server.proc.kill()
    server.proc.wait(timeout=10)
    time.sleep(0.2)
    assert lines_for_root(server) < LINES, "every line was written before SIGKILL: the log is not buffered"


def test_a_panic_is_a_500_with_its_stack_and_the_server_serves_on(server: Server) -> None:
    client = server.connect()
    client.request("GET", PANIC_ROUTE)
    response = client.getresponse()
    assert response.status == 500, "a panicking handler must answer 500, not drop the connection"
    response.read()
    client.request("GET", "/")
    assert client.getresponse().status == 200
    panic_line = next(line for line in server.requests_logged() if line["path"] == PANIC_ROUTE)
    assert panic_line["level"] == "ERROR" and panic_line["panic"] == "test panic" and "main.go" in panic_line["stack"]


def test_oversized_request_headers_get_431(server: Server) -> None:
    client = server.connect()
    client.request("GET", "/", headers={"X-Big": "a" * (128 << 10)})
    assert client.getresponse().status == 431


@pytest.mark.parametrize("env", [{"SHUTDOWN_DELAY": "5"}, {"SHUTDOWN_TIMEOUT": "soon"}, {"LOG_LEVEL": "loud"}],
                         ids=["delay-without-unit", "timeout-not-a-duration", "unknown-level"])
def test_bad_settings_stop_the_start_with_one_line(build: Build, env: dict[str, str]) -> None:
    proc = subprocess.run([str(build.binary)], env={"PORT": str(free_port()), **env}, capture_output=True,
                          text=True, timeout=30)
    name = next(iter(env))
    assert proc.returncode == 2 and proc.stderr.startswith(f"{name}: use ") and proc.stderr.count("\n") == 1, proc


# -- graceful shutdown -----------------------------------------------------------------


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
    RequestTimeout, so only the header deadline can be what closes the connection.
    """
    bound = (build.read_header_timeout + build.request_timeout) / 2
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


# -- the command-line tool ---------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    need("go", "builds the generated tool")
    project = copier_generate(tmp_path_factory.mktemp("cli") / "tool", {"app_kind": "cli"})
    run(["make", "build"], cwd=project, timeout=300, env={"GOTOOLCHAIN": "local", "GOPROXY": "off"})
    return project / "bin" / "hello-service"


@pytest.mark.parametrize("signum, sent", [(signal.SIGINT, True), (signal.SIGTERM, True), (None, False)],
                         ids=["SIGINT", "SIGTERM", "control-no-signal"])
def test_cli_work_is_cancelled_by_a_signal_with_exit_130(cli_binary: Path, signum: int | None, sent: bool) -> None:
    """`-wait 1h` is work that only a signal can end within the bound; the control shows it does not end alone."""
    proc = subprocess.Popen([str(cli_binary), "-wait", "1h", "-v"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_signal_handling)
    try:
        deadline = time.monotonic() + START_WAIT
        # -v logs "greeting" once the work has begun, so the signal reaches run's context, not the start-up.
        line = proc.stderr.readline() if proc.stderr else ""
        assert "greeting" in line and time.monotonic() < deadline, line
        if sent:
            proc.send_signal(signum)
            assert proc.wait(timeout=10) == 130
            assert proc.stdout and proc.stdout.read() == "", "interrupted work must not print its result"
        else:
            with pytest.raises(subprocess.TimeoutExpired):
                proc.wait(timeout=2)
    finally:
        proc.kill()
        proc.wait(timeout=10)
