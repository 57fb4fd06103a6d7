"""Verdicts of the network decision code that mutation testing found unpinned (issue 17).

Through public interfaces only: net.classify on real exception types, net.listeners on the
recorded psutil fixtures, diagnose() against real loopback servers.
"""

from __future__ import annotations

import asyncio
import errno
import itertools
import socket
import ssl
import time
from pathlib import Path

import pytest

import fakes
from conftest import by_code, codes, diagnose
from lmdoctor import net
from lmdoctor.findings import Severity
from lmdoctor.net import Attempt, Failure, Fault
from lmdoctor.target import Target
from loopback import RawServer, Reply, Server, free_port
from portable import need_extra_loopback

# --- the error classifier: one exception in, one fault and its evidence out ---------------------


def _ssl(cls: type[ssl.SSLError], reason: str | None) -> ssl.SSLError:
    exc = cls(1, f"[SSL: {reason}] {reason}")
    exc.reason = reason  # type: ignore[misc] - what OpenSSL's error queue puts there
    return exc


@pytest.mark.parametrize(
    ("exc", "fault", "facts"),
    [
        # a plain-text peer, by ssl's reason: "speaks HTTP", not a handshake problem
        (_ssl(ssl.SSLError, "HTTP_REQUEST"), Fault.TLS_MISMATCH, {"ssl_reason": "HTTP_REQUEST"}),
        # the peer closed during the handshake: nothing answered, not a TLS fault
        (_ssl(ssl.SSLEOFError, None), Fault.CLOSED, {}),
        (
            _ssl(ssl.SSLError, "UNEXPECTED_EOF_WHILE_READING"),
            Fault.CLOSED,
            {"ssl_reason": "UNEXPECTED_EOF_WHILE_READING"},
        ),
        (
            _ssl(ssl.SSLError, "SSLV3_ALERT_HANDSHAKE_FAILURE"),
            Fault.TLS_ERROR,
            {"ssl_reason": "SSLV3_ALERT_HANDSHAKE_FAILURE"},
        ),
        (_ssl(ssl.SSLError, None), Fault.TLS_ERROR, {}),
    ],
)
def test_ssl_errors_are_told_apart_by_reason_and_type(exc, fault, facts):
    failure = net.classify(exc)
    assert (failure.fault, failure.facts, failure.errno) == (fault, facts, None)
    assert failure.exception == type(exc).__name__


def test_a_dns_failure_names_the_resolvers_code():
    failure = net.classify(socket.gaierror(socket.EAI_AGAIN, "Temporary failure"))
    assert failure.fault is Fault.DNS
    assert failure.evidence() == {"error": "gaierror", "gai_error": "EAI_AGAIN"}


@pytest.mark.parametrize("exc", [socket.gaierror(), socket.gaierror("no code, only text")])
def test_a_dns_failure_without_a_code_names_none(exc):
    failure = net.classify(exc)
    assert (failure.fault, failure.facts) == (Fault.DNS, {})


@pytest.mark.parametrize(
    ("exc", "fault", "errno_name"),
    [
        (ConnectionRefusedError(), Fault.REFUSED, None),  # no errno: the type says it
        (ConnectionResetError(), Fault.RESET, None),
        (ConnectionAbortedError(), Fault.RESET, None),
        (BrokenPipeError(errno.EPIPE, "Broken pipe"), Fault.RESET, "EPIPE"),
        (OSError(errno.EACCES, "Permission denied"), Fault.UNREACHABLE, "EACCES"),
        (TimeoutError(errno.ETIMEDOUT, "Connection timed out"), Fault.TIMEOUT, "ETIMEDOUT"),
        (TimeoutError(), Fault.TIMEOUT, None),
        (EOFError(), Fault.CLOSED, None),
        (asyncio.IncompleteReadError(b"HT", 10), Fault.CLOSED, None),
        (OSError(errno.EADDRINUSE, "in use"), Fault.OTHER, None),
        (OSError("no errno"), Fault.OTHER, None),
    ],
)
def test_os_errors_by_type_and_errno(exc, fault, errno_name):
    failure = net.classify(exc)
    assert (failure.fault, failure.errno_name) == (fault, errno_name)
    evidence = failure.evidence()
    assert evidence["error"] == type(exc).__name__
    assert evidence.get("errno") == errno_name


def test_an_unknown_winerror_falls_back_to_the_errno():
    exc = OSError(errno.ECONNREFUSED, "refused")
    exc.winerror = 99999  # type: ignore[attr-defined] - not a code the table knows
    failure = net.classify(exc)
    assert (failure.fault, failure.errno_name, failure.facts) == (Fault.REFUSED, "ECONNREFUSED", {})


def test_a_windows_code_names_both_the_windows_and_the_posix_error():
    exc = OSError(errno.EINVAL, "refused")
    exc.winerror = 1225  # type: ignore[attr-defined]
    assert net.classify(exc).evidence() == {
        "error": "OSError",
        "winerror": 1225,
        "winerror_name": "ERROR_CONNECTION_REFUSED",
        "errno": "ECONNREFUSED",
    }


def _raised_inside(outer: BaseException, inner: BaseException) -> BaseException:
    """`outer` raised while handling `inner`: implicit chaining (__context__ only)."""
    try:
        try:
            raise inner
        except BaseException:
            raise outer  # noqa: B904 - the implicit chain is the point
    except BaseException as exc:
        return exc


def test_the_cause_is_found_through_implicit_chaining_too():
    exc = _raised_inside(RuntimeError("wrapper"), ConnectionRefusedError(errno.ECONNREFUSED, "x"))
    assert exc.__cause__ is None
    failure = net.classify(exc)
    assert (failure.fault, failure.exception) == (Fault.REFUSED, "ConnectionRefusedError")


def test_an_unclassified_chain_is_named_by_the_outer_exception():
    exc = _raised_inside(RuntimeError("wrapper"), ValueError("inner"))
    assert net.classify(exc) == Failure(Fault.OTHER, "RuntimeError")


def test_a_cyclic_chain_ends():
    a, b = RuntimeError("a"), ValueError("b")
    a.__context__, b.__context__ = b, a
    assert net.classify(a).fault is Fault.OTHER


def test_the_first_classifiable_link_wins():
    outer = ConnectionResetError(errno.ECONNRESET, "reset")
    outer.__cause__ = ConnectionRefusedError(errno.ECONNREFUSED, "refused")
    assert net.classify(outer).fault is Fault.RESET


# --- which failed address explains "nothing connects" ------------------------------------------


def _attempt(address: str, fault: Fault | None) -> Attempt:
    return Attempt(address, fault is None, 1.0, Failure(fault, "x") if fault else None)


@pytest.mark.parametrize(
    ("faults", "named"),
    [
        # a refusal is an answer; a v6 ENETUNREACH next to it is a host without IPv6 routes
        ([Fault.UNREACHABLE, Fault.REFUSED], 1),
        ([Fault.TIMEOUT, Fault.REFUSED], 1),
        ([Fault.UNREACHABLE, Fault.TIMEOUT], 1),
        ([Fault.OTHER, Fault.UNREACHABLE], 1),
        ([Fault.RESET, Fault.OTHER], 0),  # neither ranked: resolver order
        ([Fault.REFUSED, Fault.REFUSED], 0),
        ([None, Fault.UNREACHABLE], 1),
    ],
)
def test_the_most_telling_failure_names_the_connect_phase(faults, named):
    attempts = [_attempt(f"10.0.0.{i}", f) for i, f in enumerate(faults)]
    assert net._worst_first(attempts) is attempts[named]


# --- this machine's listening sockets ----------------------------------------------------------


class _Addr(tuple):
    """psutil's addr namedtuple: (ip, port), or () for a socket without a local address."""

    @property
    def ip(self) -> str:
        return self[0]

    @property
    def port(self) -> int:
        return self[1]


class _Conn:
    def __init__(self, laddr: tuple, status: str, pid: int | None = None) -> None:
        self.laddr, self.status, self.pid = _Addr(laddr), status, pid


class _Ps:
    """The psutil calls listeners() makes, answering from `system` (a list of (laddr, status,
    pid), or an exception to raise) and `procs` ({pid: (name, username, connections)})."""

    CONN_LISTEN = "LISTEN"

    class Error(Exception):
        pass

    class AccessDenied(Error):
        pass

    class NoSuchProcess(Error):
        pass

    class ZombieProcess(NoSuchProcess):
        pass

    def __init__(self, system, procs, me: int | None = 1) -> None:
        self.system, self.procs, self.me = system, procs, me
        self.name_calls: list[int] = []

    def net_connections(self, kind: str = "inet") -> list[_Conn]:
        if isinstance(self.system, BaseException):
            raise self.system
        return [_Conn(*row) for row in self.system]

    def Process(self, pid: int | None = None) -> _Proc:
        pid = self.me if pid is None else pid
        if pid not in self.procs:
            raise self.NoSuchProcess(pid)
        return _Proc(self, pid)

    def process_iter(self, attrs: list[str] | None = None) -> list[_Proc]:
        return [_Proc(self, pid, info=True) for pid in self.procs]


class _Proc:
    def __init__(self, ps: _Ps, pid: int, info: bool = False) -> None:
        self.ps, self.pid = ps, pid
        _, user, _ = ps.procs[pid]
        self.info = {"username": user} if info else None

    def name(self) -> str:
        self.ps.name_calls.append(self.pid)
        name = self.ps.procs[self.pid][0]
        if isinstance(name, BaseException):
            raise name
        return name

    def username(self) -> str:
        user = self.ps.procs[self.pid][1]
        if isinstance(user, BaseException):
            raise user
        return user

    def net_connections(self, kind: str = "inet") -> list[_Conn]:
        rows = self.ps.procs[self.pid][2]
        if isinstance(rows, BaseException):
            raise rows
        return [_Conn(laddr, status) for laddr, status in rows]


def _seen(found: net.Listeners | None) -> list[tuple[str, int, int | None, str | None]]:
    assert found is not None
    return [(x.ip, x.port, x.pid, x.process) for x in found]


def test_only_listening_sockets_with_an_address_count_sorted_by_port_then_address():
    ps = _Ps(
        [
            (("127.0.0.1", 8080), "LISTEN", 7),
            (("10.0.0.2", 8080), "LISTEN", 7),
            (("127.0.0.1", 1234), "ESTABLISHED", 7),  # a client connection, not a server
            ((), "LISTEN", 7),  # no local address (psutil gives () for some sockets)
            (("fe80::1%eth0", 9000), "LISTEN", None),  # zone id dropped; no pid: no name
            (("127.0.0.1", 8080), "LISTEN", 7),  # the same socket twice (dual rows)
        ],
        {7: ("llama-server", "ann", [])},
    )
    found = net.listeners(ps)
    assert _seen(found) == [
        ("10.0.0.2", 8080, 7, "llama-server"),
        ("127.0.0.1", 8080, 7, "llama-server"),
        ("fe80::1", 9000, None, None),
    ]
    assert found.complete is True
    assert ps.name_calls == [7]  # one lookup per process, not per socket


@pytest.mark.parametrize("gone", ["NoSuchProcess", "AccessDenied", "ZombieProcess"])
def test_a_process_that_cannot_be_named_still_counts_as_listening(gone):
    ps = _Ps([(("0.0.0.0", 11434), "LISTEN", 9)], {})
    ps.procs[9] = (getattr(ps, gone)(9), "ollama", [])
    assert _seen(net.listeners(ps)) == [("0.0.0.0", 11434, 9, None)]


@pytest.mark.parametrize("denial", ["AccessDenied", PermissionError(), OSError()])
def test_a_denied_system_table_falls_back_to_this_users_processes(denial):
    """macOS without root: the user's own servers are still found, other users' are not
    asked, and the result says it is incomplete."""
    ps = _Ps(
        None,
        {
            1: ("python3", "ann", []),
            2: (
                "ollama",
                "ann",
                [(("127.0.0.1", 11434), "LISTEN"), (("127.0.0.1", 5), "CLOSE_WAIT")],
            ),
            3: ("sshd", "root", [(("0.0.0.0", 22), "LISTEN")]),  # another user: skipped
            4: ("LM Studio", "ann", _Ps.NoSuchProcess(4)),  # exited meanwhile
        },
    )
    ps.system = ps.AccessDenied() if denial == "AccessDenied" else denial
    found = net.listeners(ps)
    assert _seen(found) == [("127.0.0.1", 11434, 2, "ollama")]
    assert found.complete is False


def test_when_the_user_is_unknown_every_readable_process_is_asked():
    ps = _Ps(
        _Ps.AccessDenied(),
        {
            2: ("ollama", "ann", [(("127.0.0.1", 11434), "LISTEN")]),
            3: ("lms", "bob", [(("127.0.0.1", 1234), "LISTEN")]),
        },
        me=99,
    )  # Process() of this process fails: NoSuchProcess
    assert [x.port for x in net.listeners(ps)] == [1234, 11434]


def test_nothing_readable_at_all_is_unknown_not_empty():
    ps = _Ps(_Ps.AccessDenied(), {1: ("python3", "ann", _Ps.AccessDenied())})
    assert net.listeners(ps) is None
    # a readable process without sockets: known to be empty (but incomplete)
    ps = _Ps(_Ps.AccessDenied(), {1: ("python3", "ann", [])})
    found = net.listeners(ps)
    assert found == [] and found is not None and found.complete is False


@pytest.mark.parametrize(
    ("listener", "address", "system", "covered"),
    [
        ("127.0.0.1", "127.0.0.1", "Linux", True),
        ("127.0.0.1", "10.0.0.2", "Linux", False),
        ("0.0.0.0", "10.0.0.2", "Linux", True),
        ("0.0.0.0", "::1", "Linux", False),  # an IPv4 wildcard takes no IPv6 connection
        ("::", "::1", "Windows", True),
        ("::", "10.0.0.2", "Linux", True),  # dual-stack by default
        ("::", "10.0.0.2", "Windows", False),  # IPV6_V6ONLY by default there
        ("::1", "127.0.0.1", "Linux", False),
        ("10.0.0.2", "0.0.0.0", "Linux", False),
    ],
)
def test_which_listener_a_connection_reaches(listener, address, system, covered):
    from lmdoctor.system import System

    assert net.Listener(listener, 80).covers(address, System.simulate(system)) is covered


@pytest.mark.parametrize(
    ("ip", "loopback", "wildcard"),
    [
        ("127.0.0.1", True, False),
        ("::1", True, False),
        ("0.0.0.0", False, True),
        ("::", False, True),
        ("10.0.0.2", False, False),
    ],
)
def test_a_listeners_kind(ip, loopback, wildcard):
    listener = net.Listener(ip, 80, 1, "x")
    assert (listener.loopback, listener.wildcard) == (loopback, wildcard)
    assert listener.evidence() == {"address": ip, "port": 80, "pid": 1, "process": "x"}


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LOCALHOST", True),
        ("localhost.", True),
        ("app.localhost", True),
        ("127.0.0.1", True),
        ("127.9.9.9", True),
        ("::1", True),
        ("::1%lo", True),
        ("mylocalhost", False),
        ("localhost.example", False),
        ("10.0.0.1", False),
        ("fe80::1%lo", False),
        ("example.com", False),
        ("", False),
    ],
)
def test_what_counts_as_loopback(host, loopback):
    assert net.is_loopback(host) is loopback


def test_this_machines_addresses_are_ip_addresses_without_zone():
    import ipaddress

    found = net.local_addresses()
    assert "127.0.0.1" in found
    for address in found:
        ipaddress.ip_address(address)  # no MAC address (AF_PACKET / AF_LINK), no %zone


def test_a_bracketed_interface_address_is_this_machine():
    mine = next((a for a in sorted(net.local_addresses()) if not net.is_loopback(a)), None)
    if mine is None:
        pytest.skip("no interface besides loopback")
    assert net.is_this_machine(f"[{mine}]")
    assert asyncio.run(net.is_served_here(mine, 2.0))


# --- the network check's verdicts, against real loopback sockets --------------------------------

MODEL = "lmdoctor-test/model-7b"
MODELS = Reply(200, {"object": "list", "data": [{"id": MODEL, "object": "model"}]})
_hosts = itertools.count(61)  # test_network.py uses .31 upwards; distinct addresses per test


def _host() -> str:
    need_extra_loopback()
    return f"127.0.0.{next(_hosts) % 150 + 61}"


def _target(url: str, **kw: object) -> Target:
    values: dict = dict(
        name="local",
        provider="openai",
        api_base=url,
        model=MODEL,
        model_id=MODEL,
        config_path=Path("/home/u/.picoclaw/config.json"),
        entry="model_list[0]",
    )
    values.update(kw)
    return Target(**values)


def _on(host: str, fake: Server) -> Server:
    """The fake's routes, served on `host` (the fakes bind 127.0.0.1)."""
    fake.httpd.server_close()
    return Server(fake.routes, default=fake.default, host=host)


def _network(url: str, **kw: object) -> list:
    found = diagnose(_target(url, **kw), only=["network"])
    return [f for f in found if f.check == "network"]


@pytest.fixture(autouse=True)
def _bare_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A plain host, whatever this test machine is (detect_runtime reads under SYSTEM_ROOT)."""
    root = tmp_path / "root"
    root.mkdir()
    monkeypatch.setattr(net, "SYSTEM_ROOT", root)
    return root


def _docker(root: Path, gateway: str) -> None:
    """A Docker container whose default route goes via `gateway` (an IPv4 address)."""
    (root / ".dockerenv").touch()
    (root / "proc/net").mkdir(parents=True)
    little_endian = "".join(f"{int(b):02X}" for b in reversed(gateway.split(".")))
    (root / "proc/net/route").write_text(
        f"Iface\tDestination\tGateway\tFlags\neth0\t00000000\t{little_endian}\t0003\n"
    )


def test_refused_here_says_nothing_listens_on_this_machine_and_how_to_start_one():
    host = _host()
    port = free_port(host)
    [refused] = _network(f"http://{host}:{port}/v1")
    assert refused.code == "net.refused" and refused.severity is Severity.ERROR
    assert refused.summary == f"Nothing is listening on {host}:{port}"
    assert refused.detail == (
        f"Nothing accepts connections on port {port} of this machine (its listening sockets "
        "confirm it); no LLM server answers on the well-known ports either."
    )
    assert refused.fix.endswith(", or correct the port in api_base in config.json model_list[0].")
    assert "Docker host" not in refused.detail + refused.fix


def test_refused_at_the_docker_gateway_is_the_host_server_on_loopback_only(_bare_host):
    host = _host()
    _docker(_bare_host, gateway=host)
    port = free_port(host)
    found = _network(f"http://{host}:{port}/v1")
    refused = by_code(found, "net.refused")
    assert "is the Docker host; a server there that listens on 127.0.0.1 only" in refused.detail
    assert "; or " in refused.fix  # open it to the LAN; or start it / correct the port
    warning = by_code(found, "net.container_localhost")
    assert warning.severity is Severity.WARN
    assert f"or the bridge gateway {host}" in warning.fix
    assert f"host.docker.internal:{port}/v1" in warning.fix
    assert warning.evidence["runtime"] == "a docker container"


def test_refused_in_a_container_without_a_gateway_names_no_gateway(_bare_host):
    (_bare_host / "run").mkdir()
    (_bare_host / "run/.containerenv").touch()
    host = _host()
    found = _network(f"http://{host}:{free_port(host)}/v1")
    refused = by_code(found, "net.refused")
    assert "Docker host" not in refused.detail
    warning = by_code(found, "net.container_localhost")
    assert "bridge gateway" not in warning.fix
    assert f"inside a podman container: {host} is that container itself" in warning.summary


def test_under_wsl2_without_resolv_conf_the_gateway_names_the_windows_host(_bare_host):
    (_bare_host / "proc/net").mkdir(parents=True)
    (_bare_host / "proc/version").write_text("Linux version 5.15.1-microsoft-standard-WSL2")
    (_bare_host / "proc/net/route").write_text(
        "Iface\tDestination\tGateway\tFlags\neth0\t00000000\t016011AC\t0003\n"  # 172.17.96.1
    )
    host = _host()
    port = free_port(host)
    warning = by_code(_network(f"http://{host}:{port}/v1"), "net.container_localhost")
    assert f"use http://172.17.96.1:{port}/v1" in warning.fix
    assert "WSL2 system" in warning.summary and warning.evidence["runtime"] == "WSL2"


def test_under_wsl2_with_nothing_known_the_fix_names_a_placeholder(_bare_host):
    (_bare_host / "proc").mkdir()
    (_bare_host / "proc/version").write_text("Linux version 5.15.1-microsoft-standard-WSL2")
    host = _host()
    warning = by_code(_network(f"http://{host}:{free_port(host)}/v1"), "net.container_localhost")
    assert "http://WINDOWS_HOST_IP:" in warning.fix


def test_a_container_does_not_warn_about_an_address_that_is_not_loopback(_bare_host):
    _docker(_bare_host, gateway="172.17.0.1")
    lan = next((a for a in sorted(net.local_addresses()) if not net.is_loopback(a)), None)
    if lan is None or ":" in lan:
        pytest.skip("no IPv4 interface besides loopback")
    found = _network(f"http://{lan}:{free_port(lan)}/v1")
    assert "net.refused" in codes(found) and "net.container_localhost" not in codes(found)


def test_wrong_port_names_the_best_match_first_with_version_models_and_the_others():
    host = _host()
    ollama = _on(host, fakes.ollama(("llama3.2:latest", MODEL, "qwen3:8b", "phi4:latest")))
    lmstudio = _on(host, fakes.lmstudio())
    with ollama, lmstudio:
        port = free_port(host)
        [wrong] = _network(f"http://{host}:{port}/v1", provider="lmstudio")
    # the server that lists the configured model comes first, though another kind
    assert wrong.code == "net.wrong_port"
    assert wrong.summary == (
        f"No LLM server on {host}:{port}, but Ollama answers on port {ollama.port}"
    )
    assert wrong.detail == (
        f"Port {port} refuses connections; Ollama 0.12.3 answers on {ollama.port} serving "
        f"llama3.2:latest, {MODEL}, qwen3:8b; also LM Studio on {lmstudio.port}."
    )
    assert (
        wrong.fix == f"Set api_base to http://{host}:{ollama.port}/v1 in config.json model_list[0]."
    )
    assert [s["port"] for s in wrong.evidence["found"]] == [ollama.port, lmstudio.port]
    assert wrong.evidence["found"][0]["version"] == "0.12.3"


def test_wrong_port_prefers_the_configured_kind_when_no_server_lists_the_model():
    host = _host()
    ollama, lmstudio = _on(host, fakes.ollama()), _on(host, fakes.lmstudio())
    with ollama, lmstudio:
        port = free_port(host)
        wrong = by_code(_network(f"http://{host}:{port}/v1", provider="lmstudio"), "net.wrong_port")
    assert wrong.evidence["suggested_api_base"] == f"http://{host}:{lmstudio.port}/v1"
    assert f"; also Ollama on {ollama.port}." in wrong.detail


def test_a_server_bound_elsewhere_is_identified_by_what_answers_there():
    """The bind check asks the listener what it is (Ollama here), within its budget."""
    with _on("127.0.0.1", fakes.ollama()) as server:
        found = _network(f"http://{_host()}:{server.port}/v1")
    wrong = by_code(found, "net.wrong_address")
    assert wrong.evidence["server"] == "Ollama"
    assert wrong.evidence["process"] == psutil_name()
    assert wrong.summary.startswith(f"{psutil_name()} (pid ")


def psutil_name() -> str:
    import psutil

    return psutil.Process().name()


def _close_at_once(conn: socket.socket) -> None:
    conn.recv(1024)


def _reset(conn: socket.socket) -> None:
    conn.recv(1024)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")


def _hang(conn: socket.socket) -> None:
    time.sleep(3)


@pytest.mark.parametrize(
    ("handler", "words"),
    [
        (_close_at_once, "accepts connections but closes them without an answer"),
        (_reset, "accepts connections but closes them without an answer"),
        (_hang, "accepts connections but sends nothing for 1.5 s"),
    ],
)
def test_no_answer_says_whether_the_port_closed_or_stayed_silent(handler, words):
    with RawServer(handler, host=_host()) as server:
        found = _network(server.url + "/v1")
    finding = by_code(found, "net.no_response")
    assert finding.summary == f"{server.host}:{server.port} {words}"
    assert "(first_byte phase)" in finding.detail


def _ftp(conn: socket.socket) -> None:
    conn.sendall(b"220 ProFTPD Server ready.\r\n")
    time.sleep(1)


def _unknown_banner(conn: socket.socket) -> None:
    conn.sendall(b"HELLO there\r\n")
    time.sleep(1)


def test_a_banner_names_the_service_and_the_process_that_owns_the_port():
    with RawServer(_ftp, host=_host()) as server:
        finding = by_code(_network(server.url + "/v1"), "http.not_llm_server")
    assert (
        finding.summary
        == f"{server.host}:{server.port} is not an HTTP server: it is an FTP or SMTP server"
    )
    assert (
        finding.detail
        == "It answered with '220 ProFTPD Server ready.' instead of an HTTP status line."
    )
    assert finding.evidence["process"] == psutil_name()
    assert "config.json model_list[0]" in finding.fix


def test_an_unknown_banner_is_named_by_the_process_that_listens():
    with RawServer(_unknown_banner, host=_host()) as server:
        finding = by_code(_network(server.url + "/v1"), "http.not_llm_server")
    assert finding.summary.endswith(f"is not an HTTP server: it is the process {psutil_name()}")


def test_a_url_the_client_cannot_call_is_left_to_the_config_check():
    assert _network("ftp://127.0.0.1:21/v1") == []


# --- TLS verdicts ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca():
    import trustme

    return trustme.CA()


class _TLSServer(RawServer):
    """Answers HTTP over TLS with `context` (a server-side SSLContext)."""

    def __init__(self, context: ssl.SSLContext, host: str) -> None:
        self.context = context
        super().__init__(self._serve, host=host)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(3)
        try:
            tls = self.context.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            return
        with tls:
            tls.recv(4096)
            body = b'{"object":"list","data":[]}'
            tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))


def _trusting(ca, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, simulate) -> None:
    simulate("Linux")  # OpenSSL's verifier and SSL_CERT_FILE
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))


def test_an_expired_certificate_is_named_and_renewal_advised(ca, tmp_path, monkeypatch, simulate):
    import datetime

    _trusting(ca, tmp_path, monkeypatch, simulate)
    host = _host()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    past = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
    ca.issue_cert(
        host, not_before=past, not_after=past + datetime.timedelta(days=1)
    ).configure_cert(context)
    with _TLSServer(context, host) as server:
        [finding] = _network(f"https://{host}:{server.port}/v1")
    assert finding.code == "net.tls_invalid" and finding.evidence["verify_code"] == 10
    assert finding.summary == (
        f"The certificate of {host}:{server.port} does not verify: certificate has expired"
    )
    assert finding.fix == "Renew the server's certificate (it has expired)."


def test_an_untrusted_certificate_gets_the_trust_advice(ca, simulate):
    from lmdoctor import advice

    simulate("Linux")
    host = _host()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(host).configure_cert(context)
    with _TLSServer(context, host) as server:
        finding = by_code(_network(f"https://{host}:{server.port}/v1"), "net.tls_invalid")
    assert finding.fix == advice.trust_fix().format(host=host)


def test_a_server_that_rejects_the_handshake_is_net_tls_error(ca, tmp_path, monkeypatch, simulate):
    """A server that wants a client certificate (TLS 1.2: the handshake itself fails)."""
    _trusting(ca, tmp_path, monkeypatch, simulate)
    host = _host()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    ca.issue_cert(host).configure_cert(context)
    ca.configure_trust(context)
    context.verify_mode = ssl.CERT_REQUIRED
    with _TLSServer(context, host) as server:
        [finding] = _network(f"https://{host}:{server.port}/v1")
    assert finding.code == "net.tls_error" and finding.severity is Severity.ERROR
    assert finding.summary == f"The TLS handshake with {host}:{server.port} failed"
    assert finding.evidence["phase"] == "tls" and finding.evidence["ssl_reason"]


# --- verdicts that need an address these tests may not reach: the check's own builders --------
# (DNS answers and a remote refusal cannot be produced on loopback without sending traffic
# elsewhere; tests/test_netns.py covers them end to end where namespaces are available.)


def _failed(host: str, phase: str, failure: Failure, address: str | None = None) -> net.Probe:
    p = net.Probe(f"http://{host}:1234/v1", "http", host, 1234, address=address)
    p.phase, p.failure = phase, failure
    return p


@pytest.mark.parametrize(
    ("failure", "detail"),
    [
        (
            Failure(Fault.DNS, "gaierror", None, {"gai_error": "EAI_NONAME"}),
            "The resolver knows no such host.",
        ),
        (
            Failure(Fault.DNS, "gaierror", None, {"gai_error": "EAI_AGAIN"}),
            "The DNS server did not answer (temporary failure or no network).",
        ),
        (
            Failure(Fault.DNS, "gaierror", None, {"gai_error": "EAI_FAIL"}),
            "The DNS server did not answer (temporary failure or no network).",
        ),
        (
            Failure(Fault.TIMEOUT, "TimeoutError"),
            "The DNS server did not answer (temporary failure or no network).",
        ),
        (Failure(Fault.DNS, "gaierror"), "The resolver knows no such host."),
    ],
)
def test_dns_tells_a_missing_name_from_a_resolver_that_did_not_answer(failure, detail):
    from lmdoctor_checks.network import _dns

    p = _failed("llm.example.test", "resolve", failure)
    finding = _dns(_target(p.url), p, {})
    assert (finding.code, finding.detail) == ("net.dns", detail)
    assert finding.fix == (
        "Correct the host in api_base in config.json model_list[0], or make the name resolve here."
    )


def test_host_docker_internal_outside_a_container_says_where_it_exists(_bare_host):
    from lmdoctor_checks.network import _dns

    p = _failed("host.docker.internal", "resolve", Failure(Fault.DNS, "gaierror"))
    fix = _dns(_target(p.url), p, {}).fix
    assert fix.startswith("host.docker.internal exists only inside containers")
    assert fix.endswith("; outside a container use the server's address.")
    _docker(_bare_host, "172.17.0.1")
    fix = _dns(_target(p.url), p, {}).fix
    assert fix.endswith('(compose: extra_hosts: ["host.docker.internal:host-gateway"]).')


def test_a_remote_refusal_may_be_a_firewall_reject():
    from lmdoctor_checks.network import _refused

    p = _failed(
        "192.0.2.7",
        "connect",
        Failure(Fault.REFUSED, "ConnectionRefusedError"),
        address="192.0.2.7",
    )
    finding = _refused(_target(p.url), p, {}, False, False, net.Runtime())
    assert finding.detail.startswith("192.0.2.7 answered with a reset: nothing listens on 1234")
    assert finding.evidence["confirmed_by_listeners"] is False


@pytest.mark.parametrize(
    ("errno_name", "why"),
    [
        ("ENETUNREACH", "there is no route to that network"),
        ("EACCES", "a firewall on this machine rejects outgoing packets to it"),
        ("EPERM", "a firewall on this machine rejects outgoing packets to it"),
        ("EHOSTUNREACH", "no host answers on the local network, or a firewall on the way"),
    ],
)
def test_unreachable_says_why_by_errno(simulate, errno_name, why):
    from lmdoctor_checks.network import _unreachable

    simulate("Linux")
    failure = Failure(Fault.UNREACHABLE, "OSError", getattr(errno, errno_name))
    p = _failed("10.9.8.7", "connect", failure, address="10.9.8.7")
    finding = _unreachable(p, {})
    assert finding.summary == f"10.9.8.7:1234 is unreachable ({errno_name})"
    assert finding.detail.startswith(f"The connection was rejected before reaching a server: {why}")
    assert "ip route get 10.9.8.7" in finding.fix


def test_unreachable_without_an_errno_names_the_exception(simulate):
    from lmdoctor_checks.network import _unreachable

    simulate("Linux")
    p = _failed("10.9.8.7", "connect", Failure(Fault.UNREACHABLE, "OSError"), address="10.9.8.7")
    assert _unreachable(p, {}).summary == "10.9.8.7:1234 is unreachable (OSError)"
