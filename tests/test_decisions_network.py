"""Verdicts of the network check (checks/network.py) that mutation testing found unpinned
(issue 17): diagnose(..., only=["network"]) against real loopback servers and sockets; the
check's own builders only where a verdict needs an address a test may not reach.
"""

from __future__ import annotations

import errno
import itertools
import socket
import ssl
import time
from pathlib import Path

import pytest
from targets import MODEL, MODELS, target

import fakes
from conftest import PATIENT, SHORT, by_code, codes, diagnose
from lmdoctor import net
from lmdoctor.context import Settings
from lmdoctor.findings import Severity
from lmdoctor.net import Failure, Fault
from loopback import RawServer, Server, TLSServer, free_port
from portable import need_extra_loopback, symlink

# --- the network check's verdicts, against real loopback sockets --------------------------------

_hosts = itertools.count(61)  # test_network.py uses .31 upwards; distinct addresses per test


def _host() -> str:
    need_extra_loopback()
    return f"127.0.0.{next(_hosts) % 150 + 61}"


def _on(host: str, fake: Server) -> Server:
    """The fake's routes, served on `host` (the fakes bind 127.0.0.1)."""
    fake.httpd.server_close()
    return Server(fake.routes, default=fake.default, host=host)


def _network(url: str, settings: Settings = PATIENT, **kw: object) -> list:
    found = diagnose(target(url, **kw), only=["network"], settings=settings)
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
    """Reads, never answers: returns when the client hangs up (far beyond SHORT's timeouts)."""
    conn.settimeout(60)
    while conn.recv(4096):
        pass


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
        found = _network(server.url + "/v1", SHORT)
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
    with TLSServer(context, host) as server:
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
    with TLSServer(context, host) as server:
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
    with TLSServer(context, host) as server:
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
    finding = _dns(target(p.url), p, {})
    assert (finding.code, finding.detail) == ("net.dns", detail)
    assert finding.fix == (
        "Correct the host in api_base in config.json model_list[0], or make the name resolve here."
    )


def test_host_docker_internal_outside_a_container_says_where_it_exists(_bare_host):
    from lmdoctor_checks.network import _dns

    p = _failed("host.docker.internal", "resolve", Failure(Fault.DNS, "gaierror"))
    fix = _dns(target(p.url), p, {}).fix
    assert fix.startswith("host.docker.internal exists only inside containers")
    assert fix.endswith("; outside a container use the server's address.")
    _docker(_bare_host, "172.17.0.1")
    fix = _dns(target(p.url), p, {}).fix
    assert fix.endswith('(compose: extra_hosts: ["host.docker.internal:host-gateway"]).')


def test_a_remote_refusal_may_be_a_firewall_reject():
    from lmdoctor_checks.network import _refused

    p = _failed(
        "192.0.2.7",
        "connect",
        Failure(Fault.REFUSED, "ConnectionRefusedError"),
        address="192.0.2.7",
    )
    finding = _refused(target(p.url), p, {}, False, False, net.Runtime())
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


# A banner service in a process of its own, with a name of its own: the evidence must name the
# process that owns THIS port, not any other listener on the machine.
_BANNER_SERVICE = """
import socket, sys, threading, time
s = socket.socket()
s.bind((sys.argv[1], 0))
s.listen(16)
print(s.getsockname()[1], flush=True)
def serve(c):
    c.sendall(b"HELLO there\\r\\n")
    time.sleep(0.5)
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"""


def test_an_unknown_banner_names_the_process_that_owns_that_port(tmp_path):
    import subprocess
    import sys

    python = tmp_path / "lmdbanner"  # the process name psutil will report
    symlink(python, Path(sys.executable))
    host = _host()
    service = subprocess.Popen(
        [str(python), "-c", _BANNER_SERVICE, host], stdout=subprocess.PIPE, text=True
    )
    decoy = socket.socket()  # this process listening on a lower port: listed first
    try:
        port = int(service.stdout.readline())
        for _ in range(64):
            decoy.close()
            decoy = socket.socket()
            decoy.bind((host, 0))
            if decoy.getsockname()[1] < port:
                break
        decoy.listen(1)
        finding = by_code(_network(f"http://{host}:{port}/v1"), "http.not_llm_server")
    finally:
        decoy.close()
        service.kill()
        service.wait()
    assert finding.evidence["process"] == "lmdbanner"
    assert finding.summary == f"{host}:{port} is not an HTTP server: it is the process lmdbanner"


def test_loopback_only_advice_follows_the_kind_that_answers_there(simulate):
    """Ollama on 127.0.0.1 only, reached through this machine's LAN address: its own way to
    listen beyond loopback, whatever the process is called."""
    simulate("Linux")  # Ollama's Linux advice (systemd)
    lan = next(
        (a for a in sorted(net.local_addresses()) if not net.is_loopback(a) and ":" not in a),
        None,
    )
    if lan is None:
        pytest.skip("no IPv4 interface besides loopback")
    with _on("127.0.0.1", fakes.ollama()) as server:
        found = _network(f"http://{lan}:{server.port}/v1")
    finding = by_code(found, "net.loopback_only")
    assert finding.fix.startswith("Set OLLAMA_HOST=0.0.0.0:11434 for the Ollama service")
    assert finding.evidence["server"] == "Ollama"
    assert finding.fix.endswith(
        f"set api_base to http://127.0.0.1:{server.port}/v1 in config.json model_list[0] instead."
    )
    assert finding.summary.endswith(
        f"listens on 127.0.0.1:{server.port} only; the config uses {lan}"
    )


def test_a_single_address_that_works_lists_no_addresses():
    with Server({"/v1/models": MODELS}, host=_host()) as server:
        [ok] = _network(server.url + "/v1")
    assert ok.code == "net.ok" and ok.summary == f"{server.host}:{server.port} answers over HTTP"
    assert ok.evidence["address"] == server.host and ok.evidence["status"] == 200
    assert "addresses" not in ok.evidence  # only when the name gave several


def test_the_listener_with_a_known_process_is_asked_and_named(monkeypatch):
    """Two sockets on the port, on other addresses of this machine; the first one's process is
    not visible (another user's, without root): the visible one names the server."""
    import psutil

    hidden, visible = sorted([_host(), _host()])  # listeners are sorted by address text
    used = _host()
    with _on(visible, fakes.ollama()) as server, socket.socket() as other:
        other.bind((hidden, server.port))
        other.listen(1)
        real = psutil.net_connections

        def without_the_hidden_pid(kind: str = "inet") -> list:
            return [
                c._replace(pid=None) if c.laddr and c.laddr[:2] == (hidden, server.port) else c
                for c in real(kind)
            ]

        monkeypatch.setattr(psutil, "net_connections", without_the_hidden_pid)
        found = _network(f"http://{used}:{server.port}/v1")
    finding = by_code(found, "net.wrong_address")
    assert finding.evidence["server"] == "Ollama"
    assert finding.summary.startswith(f"{psutil_name()} (pid ")
    assert finding.summary.endswith(f"listens on {hidden}, {visible}:{server.port}, not on {used}")
    assert [x["pid"] is None for x in finding.evidence["listeners"]] == [True, False]


def test_a_silent_port_names_the_error_it_ended_with():
    with RawServer(_hang, host=_host()) as server:
        finding = by_code(_network(server.url + "/v1", SHORT), "net.no_response")
    assert finding.evidence["error"]  # the classified failure's evidence is kept


def test_in_a_container_a_refusal_at_another_address_is_not_the_docker_host(_bare_host):
    _docker(_bare_host, gateway="172.17.0.1")
    host = _host()
    refused = by_code(_network(f"http://{host}:{free_port(host)}/v1"), "net.refused")
    assert "Docker host" not in refused.detail
    assert refused.detail.startswith("Nothing accepts connections on port")


# --- session 3 (mutD): the survivors of the full run --------------------------------------------
# A name whose address differs from its text, on loopback without DNS: inet_aton's short form
# (`127.N` is 127.0.0.N, as getaddrinfo resolves it). The verdicts must follow the address.


def _short(host: str) -> str:
    a, b, c, d = host.split(".")
    assert (b, c) == ("0", "0")
    return f"{a}.{d}"


def test_a_refusal_at_a_name_reports_the_address_it_resolved_to():
    host = _host()
    port = free_port(host)
    [refused] = _network(f"http://{_short(host)}:{port}/v1")
    assert refused.code == "net.refused"
    assert refused.summary == f"Nothing is listening on {_short(host)}:{port}"
    assert refused.evidence["address"] == host
    assert "of this machine (its listening sockets confirm it)" in refused.detail


def test_a_banner_at_a_name_of_this_machine_is_named_by_its_process():
    host = _host()
    with RawServer(_ftp, host=host) as server:
        finding = by_code(
            _network(f"http://{_short(host)}:{server.port}/v1"), "http.not_llm_server"
        )
    assert finding.evidence["process"] == psutil_name()


def test_a_loopback_name_for_a_server_on_127_0_0_1_is_another_address_not_the_lan():
    """127.0.0.1 only, reached as another loopback address: the bind is to blame (wrong
    address), not a loopback-only server reached from the LAN."""
    host = _host()
    with _on("127.0.0.1", fakes.ollama()) as server:
        [finding] = _network(f"http://{_short(host)}:{server.port}/v1")
    assert finding.code == "net.wrong_address"
    assert finding.summary.endswith(f"listens on 127.0.0.1:{server.port}, not on {host}")
    assert finding.fix.startswith(f"Set api_base to http://127.0.0.1:{server.port}/v1 in ")


def test_unreachable_routes_to_the_address_not_the_name(simulate):
    from lmdoctor_checks.network import _unreachable

    simulate("Linux")
    failure = Failure(Fault.UNREACHABLE, "OSError", errno.EHOSTUNREACH)
    p = _failed("llm.example.test", "connect", failure, address="10.9.8.7")
    finding = _unreachable(p, {})
    assert finding.summary == "llm.example.test:1234 is unreachable (EHOSTUNREACH)"
    assert "ip route get 10.9.8.7" in finding.fix and "llm.example.test" not in finding.fix


Row = __import__("collections").namedtuple("Row", "laddr status pid")
Addr = __import__("collections").namedtuple("Addr", "ip port")


def _table(monkeypatch: pytest.MonkeyPatch, extra=(), hide=(), deny: bool = False) -> None:
    """This machine's listening sockets as psutil reports them, with rows added (a socket the
    kernel lists but that refuses: a firewall REJECT rule), pids hidden (another user's process
    seen without root), or the system-wide table denied (macOS without root)."""
    import psutil

    real = psutil.net_connections

    def table(kind: str = "inet") -> list:
        if deny:
            raise psutil.AccessDenied()
        rows = [
            c._replace(pid=None) if c.laddr and tuple(c.laddr[:2]) in hide else c
            for c in real(kind)
        ]
        return rows + [Row(Addr(ip, port), psutil.CONN_LISTEN, pid) for ip, port, pid in extra]

    monkeypatch.setattr(psutil, "net_connections", table)


def test_a_port_that_refuses_though_a_process_listens_is_a_firewall_reject(monkeypatch):
    import os

    host = _host()
    port = free_port(host)
    _table(monkeypatch, extra=[(host, port, os.getpid())])
    [finding] = _network(f"http://{host}:{port}/v1")
    assert finding.code == "net.unreachable" and finding.severity is Severity.ERROR
    assert finding.summary == f"{host}:{port} refuses, yet {psutil_name()} listens there"
    assert finding.evidence["firewall"] == "reject"
    assert finding.evidence["listener"]["process"] == psutil_name()


def test_without_the_system_table_a_refusal_is_not_confirmed(monkeypatch):
    """Only this user's sockets are readable: a missing port may be another user's."""
    _table(monkeypatch, deny=True)
    host = _host()
    port = free_port(host)
    [refused] = _network(f"http://{host}:{port}/v1")
    assert refused.code == "net.refused"
    assert refused.evidence["confirmed_by_listeners"] is False
    assert refused.detail.startswith(f"Nothing accepts connections on port {port} of this machine;")


def test_a_banner_with_an_llm_server_on_another_port_blames_the_port():
    host = _host()
    with RawServer(_ftp, host=host) as banner, _on(host, fakes.ollama()) as ollama:
        [wrong] = _network(f"http://{host}:{banner.port}/v1")
    assert wrong.code == "net.wrong_port"
    assert wrong.detail.startswith(
        f"Port {banner.port} answers '220 ProFTPD Server ready.' (an FTP or SMTP server); "
        f"Ollama 0.12.3 answers on {ollama.port}"
    )
    assert wrong.evidence["banner"] == "220 ProFTPD Server ready."


def test_refused_at_the_docker_gateway_on_a_known_port_names_that_servers_lan_setting(
    _bare_host, simulate
):
    """The server on the Docker host is not identified (it refuses): its default port names
    it, and the fix says how that server listens beyond loopback."""
    simulate("Linux")
    host = _host()
    _docker(_bare_host, gateway=host)
    with socket.socket() as s:
        if s.connect_ex((host, 11434)) == 0:
            pytest.skip(f"something listens on {host}:11434 here")
    refused = by_code(_network(f"http://{host}:11434/v1"), "net.refused")
    assert refused.fix.startswith("Set OLLAMA_HOST=0.0.0.0:11434 for the Ollama service")
    # the start advice follows the configured provider (none here: the generic one)
    assert refused.fix.endswith(
        "; or Start the LLM server, or correct the port in api_base in config.json model_list[0]."
    )


def test_a_server_bound_elsewhere_whose_process_is_hidden_is_still_identified(monkeypatch):
    at, used = _host(), _host()
    with _on(at, fakes.ollama()) as server:
        _table(monkeypatch, hide=[(at, server.port)])
        [finding] = _network(f"http://{used}:{server.port}/v1")
    assert finding.code == "net.wrong_address"
    assert finding.summary == f"the server listens on {at}:{server.port}, not on {used}"
    assert finding.evidence["server"] == "Ollama" and finding.evidence["process"] is None


def test_wrong_address_suggests_the_first_address_the_server_listens_on():
    first, second = sorted([_host(), _host()])  # listeners are sorted by address text
    used = _host()
    with _on(first, fakes.ollama()) as server, socket.socket() as other:
        other.bind((second, server.port))
        other.listen(1)
        [finding] = _network(f"http://{used}:{server.port}/v1")
    assert finding.code == "net.wrong_address"
    assert finding.summary.endswith(f"listens on {first}, {second}:{server.port}, not on {used}")
    assert finding.fix.startswith(f"Set api_base to http://{first}:{server.port}/v1 in ")
    assert finding.evidence["server"] == "Ollama"


def _dribble(conn: socket.socket) -> None:
    """Headers one line at a time, never finished: every read succeeds, the answer never ends."""
    conn.recv(1024)
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    for n in range(100):
        conn.sendall(b"X-Wait-%d: 1\r\n" % n)
        time.sleep(0.1)


def test_a_listener_elsewhere_that_never_finishes_answering_is_not_a_crash():
    """Identifying it stops at its budget (connect + 2 reads): the verdict stands, unnamed."""
    from lmdoctor.settings import Settings

    at, used = _host(), _host()
    with RawServer(_dribble, host=at) as server:
        found = diagnose(
            target(f"http://{used}:{server.port}/v1"),
            only=["network"],
            settings=Settings(connect_timeout=0.5, read_timeout=0.5),
        )
    finding = by_code(found, "net.wrong_address")
    assert finding.evidence["server"] is None
    assert "check.crashed" not in codes(found)


def test_wrong_port_shows_ten_models_and_three_other_servers():
    host = _host()
    many = [MODEL] + [f"extra-{n:02}" for n in range(11)]
    best = Server({"/v1/models": _listing(many)}, host=host)
    others = [Server({"/v1/models": _listing([f"other-{n}"])}, host=host) for n in range(4)]
    with best, others[0], others[1], others[2], others[3]:
        port = free_port(host)
        [wrong] = _network(f"http://{host}:{port}/v1")
    assert wrong.code == "net.wrong_port"
    assert wrong.evidence["found"][0]["models"] == many[:10]
    assert len(wrong.evidence["found"]) == 5
    also = sorted(s.port for s in others)[:3]
    assert wrong.detail.endswith(
        "".join(f"; also {wrong.evidence['found'][1]['server']} on {p}" for p in also) + "."
    )


def _listing(ids: list[str]):
    from loopback import Reply

    return Reply(200, {"object": "list", "data": [{"id": i, "object": "model"} for i in ids]})


def test_a_name_with_two_addresses_lists_both_when_one_failed():
    """(A name with several addresses needs DNS or /etc/hosts: the check's own builder.)"""
    from lmdoctor_checks.network import _reached

    p = net.Probe(
        "http://llm.example.test:1234/v1", "http", "llm.example.test", 1234, address="10.0.0.2"
    )
    p.attempts = [
        net.Attempt("10.0.0.1", False, 3.0, Failure(Fault.REFUSED, "ConnectionRefusedError")),
        net.Attempt("10.0.0.2", True, 1.0),
    ]
    p.reply = net.Reply("http", status=200)
    ok, fallback = _reached(p, {})
    assert ok.code == "net.ok" and fallback.code == "net.address_fallback"
    assert [a["address"] for a in ok.evidence["addresses"]] == ["10.0.0.1", "10.0.0.2"]
    assert fallback.summary == "llm.example.test resolves to 2 addresses; only 10.0.0.2 works"
    assert fallback.detail.startswith("Failing: 10.0.0.1 (refused).")


@pytest.mark.parametrize(
    ("issued_for", "served_on", "asked", "code"),
    [
        # X509_V_ERR_HOSTNAME_MISMATCH: a name the certificate does not list
        ("llm.example.test", "127.0.0.1", "localhost", 62),
        # X509_V_ERR_IP_ADDRESS_MISMATCH: an address it does not list
        ("127.0.0.1", None, None, 64),
    ],
)
def test_a_certificate_for_another_name_or_address_says_which_to_use(
    ca, tmp_path, monkeypatch, simulate, issued_for, served_on, asked, code
):
    _trusting(ca, tmp_path, monkeypatch, simulate)
    served_on = served_on or _host()
    asked = asked or served_on
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(issued_for).configure_cert(context)
    with TLSServer(context, served_on) as server:
        [finding] = _network(f"https://{asked}:{server.port}/v1")
    assert finding.code == "net.tls_invalid" and finding.evidence["verify_code"] == code
    assert finding.fix == (
        f"Use the host name the certificate names in api_base, or reissue it for {asked}."
    )


def test_with_no_visible_process_the_first_listener_is_the_one_asked(monkeypatch):
    """Two sockets on the port, both of other users' processes: the first (by address) is
    asked what it is."""
    first, second = sorted([_host(), _host()])
    used = _host()
    with _on(first, fakes.ollama()) as server, socket.socket() as other:
        other.bind((second, server.port))
        other.listen(1)
        _table(monkeypatch, hide=[(first, server.port), (second, server.port)])
        [finding] = _network(f"http://{used}:{server.port}/v1")
    assert finding.code == "net.wrong_address"
    assert finding.evidence["server"] == "Ollama"
    assert finding.summary == (
        f"the server listens on {first}, {second}:{server.port}, not on {used}"
    )


# --- net.py's readers: first bytes, banners, /proc and resolv.conf (issue 17, net.py#runtime) ---
# A TLS record starts with its content type (21 alert, 22 handshake) and a legacy version whose
# first byte is 3 (RFC 8446 §5.1, RFC 5246 §6.2.1); Go's crypto/tls calls anything else "not a
# TLS handshake". rustls answers bytes that are no TLS record (a plain "GET ", content type 0x47)
# with a fatal decode_error alert: rustls@6868ee84 rustls/src/msgs/mod.rs:236-248 (content type,
# then version 0x03XX) and rustls/src/error/mod.rs:161-172,1146 (InvalidMessage → DecodeError,
# sent as an alert). OpenSSL closes without an alert (the existing TLSServer tests).
_RUSTLS_DECODE_ERROR = b"\x15\x03\x03\x00\x02\x02\x32"  # alert, TLS 1.2 record, fatal, 50


def _answer(data: bytes):
    def handler(conn: socket.socket) -> None:
        conn.recv(4096)  # the request first: a TLS stack answers it, it does not greet
        conn.sendall(data)
        time.sleep(0.5)

    return handler


# A handshake record (type 22: a ServerHello's record header, RFC 8446 §4.1.3 and §5.1) is
# what a TLS server sends after a ClientHello; a plain request never gets one from a real
# stack, but the first bytes are a TLS record all the same.
_SERVER_HELLO_HEAD = b"\x16\x03\x03\x00\x7a\x02\x00\x00\x76\x03\x03"


@pytest.mark.parametrize("record", [_RUSTLS_DECODE_ERROR, _SERVER_HELLO_HEAD])
def test_http_to_a_port_that_answers_with_a_tls_record_says_it_speaks_tls(record):
    with RawServer(_answer(record), host=_host()) as server:
        [finding] = _network(server.url + "/v1")
    assert finding.code == "net.tls_mismatch"
    assert finding.summary == (
        f"api_base uses http://, but {server.host}:{server.port} speaks TLS (HTTPS)"
    )
    assert finding.fix.startswith(f"Set api_base to https://{server.host}:{server.port}/v1 in ")
    # the port answered in TLS; no handshake was made, so none is claimed
    assert "answered with a TLS record" in finding.detail and "succeeds" not in finding.detail


@pytest.mark.parametrize(
    "data",
    [
        b"\x16\x00\x00\x05hello\r\n",  # type 22 but no TLS version: another binary protocol
        b"\x15\x10\x00\x02\x02\x32",  # type 21 with version 0x10xx: no TLS record either
        b"\x00\x03\x03\x00\x02\x02\x32",  # a TLS version byte after a type TLS does not have
    ],
)
def test_binary_bytes_that_only_look_like_tls_are_a_banner_not_tls(data):
    with RawServer(_answer(data), host=_host()) as server:
        [finding] = _network(server.url + "/v1")
    assert finding.code == "http.not_llm_server"
    assert finding.summary.startswith(f"{server.host}:{server.port} is not an HTTP server")


def test_a_banner_keeps_its_tilde_and_hides_control_bytes():
    banner = b"HELLO ~user\x7f\x1b[0m\r\n"  # printable ASCII ends at '~' (0x7e); DEL is not
    with RawServer(_answer(banner), host=_host()) as server:
        [finding] = _network(server.url + "/v1")
    assert finding.detail == "It answered with 'HELLO ~user··[0m' instead of an HTTP status line."
    assert finding.evidence["banner"] == "HELLO ~user··[0m"


def test_a_banner_is_its_first_256_bytes_even_after_a_run_of_blanks():
    # a hostile banner: 200 blanks, then text; the banner shown is cut where the read stopped
    banner = b" " * 200 + b"X" * 100 + b"\r\n"
    with RawServer(_answer(banner), host=_host()) as server:
        [finding] = _network(server.url + "/v1")
    assert finding.evidence["banner"] == "X" * 56


def test_an_http_head_is_read_header_by_header_and_a_line_without_a_colon_is_skipped():
    # the status line's reason phrase may hold a colon (RFC 9112 §4: any text); the body is no
    # header, whatever it holds
    reply = net.parse_reply(
        b"HTTP/1.1 200 OK: fine\r\nServer: uvicorn\r\nnot a header line\r\nX-Note: a:b ~\r\n"
        b"\r\nerror: not a header\n"
    )
    assert (reply.kind, reply.status, reply.server) == ("http", 200, "uvicorn")
    assert reply.headers == {"server": "uvicorn", "x-note": "a:b ~"}


# /proc/net/route as the kernel writes it: a header, then one row per route of the main table,
# "%s\t%08X\t%08X\t%04X\t..." (iface, destination, gateway in network byte order read as a
# little-endian word, flags): torvalds/linux@008440e3 net/ipv4/fib_trie.c fib_route_seq_show.
# A default route through a tunnel (WireGuard, OpenVPN tun) has no gateway: 00000000.
_ROUTE_HEADER = (
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT"
)


def _route_row(iface: str, destination: str, gateway: str, flags: str = "0003") -> str:
    return f"{iface}\t{destination}\t{gateway}\t{flags}\t0\t0\t0\t00000000\t0\t0\t0"


def _docker_route(root: Path, *rows: str) -> None:
    (root / ".dockerenv").touch()
    (root / "proc/net").mkdir(parents=True)
    (root / "proc/net/route").write_text("\n".join([_ROUTE_HEADER, *rows]) + "\n")


@pytest.mark.parametrize(
    ("rows", "gateway"),
    [
        # the tunnel's default route first, the one with a gateway after it
        (
            [
                _route_row("wg0", "00000000", "00000000", "0001"),
                _route_row("eth0", "00000000", "010011AC"),
            ],
            "172.17.0.1",
        ),
        # a subnet route (172.17.0.0/16 via 172.17.0.254) before the default route
        (
            [
                _route_row("eth0", "000011AC", "FE0011AC"),
                _route_row("eth0", "00000000", "010011AC"),
            ],
            "172.17.0.1",
        ),
        # not what the kernel writes (a cut or hand-made copy): lines too short are skipped
        (["", "eth0", "eth0\t00000000", _route_row("eth0", "00000000", "010011AC")], "172.17.0.1"),
        (["eth0\t00000000\t010011AC"], "172.17.0.1"),  # three columns are enough
        # a gateway that is no 32-bit hex number: no gateway, not a crash
        ([_route_row("eth0", "00000000", "GATEWAY!")], None),
        ([_route_row("eth0", "00000000", "1010011AC")], None),  # 9 digits: over 32 bits
        ([_route_row("wg0", "00000000", "00000000", "0001")], None),
    ],
)
def test_the_docker_gateway_is_the_first_default_route_with_a_gateway(_bare_host, rows, gateway):
    _docker_route(_bare_host, *rows)
    host = _host()
    port = free_port(host)
    warning = by_code(_network(f"http://{host}:{port}/v1"), "net.container_localhost")
    assert warning.evidence["gateway"] == gateway
    bridge = f"host.docker.internal:{port}/v1 or the bridge gateway {gateway} (on Linux"
    assert (bridge in warning.fix) is (gateway is not None)


def test_a_route_table_without_its_header_line_still_names_the_gateway(tmp_path):
    # a copy without the kernel's header line (hand-made, or cut by a tool): rows are rows
    (tmp_path / "proc/net").mkdir(parents=True)
    (tmp_path / "proc/net/route").write_text(_route_row("eth0", "00000000", "010011AC") + "\n")
    assert net.detect_runtime(tmp_path).gateway == "172.17.0.1"


# /etc/resolv.conf as WSL writes it: its header comment lines, then "nameserver ADDRESS"
# (microsoft/WSL@3e27a6a5 src/shared/inc/lxinitshared.h:58-66, src/linux/init/GnsEngine.cpp:316).
# glibc takes "nameserver" only followed by a blank and skips '#'/';' comments:
# bminor/glibc@04277e02 resolv/res_init.c res_vinit_1 (MATCH, "Skip comments").
_WSL_RESOLV_HEADER = (
    "# This file was automatically generated by WSL. To stop automatic generation of this "
    "file, add the following entry to /etc/wsl.conf:\n# [network]\n# generateResolvConf = false\n"
)
# /proc/version of WSL2's first kernels (4.19, CONFIG_LOCALVERSION "-microsoft-standard":
# microsoft/WSL2-Linux-Kernel@033213dd Microsoft/config-wsl:22) and of later ones
# ("-microsoft-standard-WSL2": microsoft/WSL2-Linux-Kernel@03490834 arch/x86/configs/config-wsl:34).
_WSL2_4_19 = (
    "Linux version 4.19.128-microsoft-standard (oe-user@oe-host) (gcc version 8.2.0 (GCC)) #1 SMP"
)


@pytest.mark.parametrize(
    ("resolv_conf", "windows_host"),
    [
        (_WSL_RESOLV_HEADER + "nameserver 172.29.96.1\n", "172.29.96.1"),
        ("\nsearch example.test\nnameserver\nnameserver 172.29.96.1\n", "172.29.96.1"),
        ("# nameserver 10.0.0.1\nnameserver\n", "WINDOWS_HOST_IP"),
    ],
)
def test_under_wsl2_the_windows_host_is_the_first_nameserver_line_with_an_address(
    _bare_host, resolv_conf, windows_host
):
    (_bare_host / "proc").mkdir()
    (_bare_host / "proc/version").write_text(_WSL2_4_19)  # 4.19: no "WSL2" in its name
    (_bare_host / "etc").mkdir()
    (_bare_host / "etc/resolv.conf").write_text(resolv_conf)
    host = _host()
    port = free_port(host)
    warning = by_code(_network(f"http://{host}:{port}/v1"), "net.container_localhost")
    assert warning.evidence["runtime"] == "WSL2"
    assert f"use http://{windows_host}:{port}/v1 (the Windows host as WSL2 sees it)" in warning.fix


@pytest.mark.parametrize(
    ("version", "wsl2"),
    [
        (_WSL2_4_19, True),
        ("Linux version 5.15.153.1-microsoft-standard-WSL2 (root@1234) #1 SMP", True),
        ("Linux version 6.6.36-custom-microsoft-WSL2 (me@build) #1 SMP", True),  # self-built
        (
            "Linux version 4.4.0-19041-Microsoft (Microsoft@Microsoft.com) #1-Microsoft",
            False,
        ),  # WSL1
        ("Linux version 6.8.0-45-generic (buildd@lcy02-amd64-075) #45-Ubuntu SMP", False),
    ],
)
def test_wsl2_is_told_by_a_microsoft_kernel_named_standard_or_wsl2(tmp_path, version, wsl2):
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc/version").write_text(version)
    assert net.detect_runtime(tmp_path).wsl2 is wsl2
