"""Verdicts of lmdoctor.net's classifier and listener code that mutation testing found
unpinned (issue 17): net.classify on real exception types, net.listeners on a psutil stand-in
(the calls it makes, as tests/psutil_fake.py), Listener.covers, is_loopback.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import ssl

import pytest

import psutil_fake
from lmdoctor import net
from lmdoctor.net import Attempt, Failure, Fault

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
    Error, AccessDenied = psutil_fake.Error, psutil_fake.AccessDenied
    NoSuchProcess, ZombieProcess = psutil_fake.NoSuchProcess, psutil_fake.ZombieProcess

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
        ("127.0.0.1%lo", True),  # a zone is dropped whatever the address family
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
        ipaddress.ip_address(address)  # no MAC address (AF_PACKET / AF_LINK)
        assert "%" not in address  # fe80::1%eth0 is listed as fe80::1


def test_a_bracketed_interface_address_is_this_machine():
    mine = next((a for a in sorted(net.local_addresses()) if not net.is_loopback(a)), None)
    if mine is None:
        pytest.skip("no interface besides loopback")
    assert net.is_this_machine(f"[{mine}]")
    assert asyncio.run(net.is_served_here(mine, 2.0))


def _wrapped(inner: BaseException, links: int) -> BaseException:
    """`inner` as the last of `links` exceptions, each the __cause__ of the one before."""
    exc = inner
    for n in range(links - 1):
        outer = RuntimeError(f"wrapper {n}")
        outer.__cause__ = exc
        exc = outer
    return exc


def test_the_chain_is_read_eight_links_deep_and_no_further():
    """httpx wraps the OS error two or three links down; the bound only stops a pathological
    chain from costing time."""
    refused = ConnectionRefusedError(errno.ECONNREFUSED, "refused")
    assert net.classify(_wrapped(refused, 8)).fault is Fault.REFUSED
    deep = ConnectionRefusedError(errno.ECONNREFUSED, "refused")
    assert net.classify(_wrapped(deep, 9)) == Failure(Fault.OTHER, "RuntimeError")


@pytest.mark.parametrize("error", [_Ps.ZombieProcess(5), OSError(), _Ps.AccessDenied()])
def test_a_process_whose_sockets_cannot_be_read_is_passed_over(error):
    ps = _Ps(
        _Ps.AccessDenied(),
        {
            1: ("python3", "ann", []),
            5: ("zombie", "ann", error),
            6: ("ollama", "ann", [(("127.0.0.1", 11434), "LISTEN")]),
        },
    )
    assert _seen(net.listeners(ps)) == [("127.0.0.1", 11434, 6, "ollama")]


def test_when_this_process_cannot_say_its_user_every_process_is_asked():
    ps = _Ps(
        _Ps.AccessDenied(),
        {
            1: ("python3", PermissionError(), []),  # username() fails with an OSError
            3: ("lms", "bob", [(("127.0.0.1", 1234), "LISTEN")]),
        },
    )
    assert [x.port for x in net.listeners(ps)] == [1234]


def test_unreadable_interfaces_leave_loopback_as_this_machine(monkeypatch):
    import psutil

    def fail() -> dict:
        raise OSError("no netlink")

    monkeypatch.setattr(psutil, "net_if_addrs", fail)
    assert net.local_addresses() == set()
    assert net.is_this_machine("127.0.0.1") and not net.is_this_machine("10.1.2.3")


def _short_form(ipv4: str) -> str:
    """The same address in inet_aton's short form (a.b.cd): resolves without DNS, yet is no
    text match for the interface address."""
    a, b, c, d = (int(x) for x in ipv4.split("."))
    return f"{a}.{b}.{c * 256 + d}"


def test_a_name_for_a_loopback_address_leads_here():
    assert not net.is_this_machine("127.5")  # not the text of any address
    assert asyncio.run(net.is_served_here("127.5", 2.0))  # resolves to 127.0.0.5


def test_a_name_for_an_interface_address_leads_here():
    mine = next(
        (a for a in sorted(net.local_addresses()) if not net.is_loopback(a) and ":" not in a),
        None,
    )
    if mine is None:
        pytest.skip("no IPv4 interface besides loopback")
    assert asyncio.run(net.is_served_here(_short_form(mine), 2.0))


def test_a_name_that_does_not_resolve_in_time_is_another_machine():
    # no time at all: the (numeric, traffic-free) lookup cannot finish first
    assert not asyncio.run(net.is_served_here("10.1.2.3", 0))
