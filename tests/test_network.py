"""The network check against real sockets: one fault per case, and nothing downstream blamed.

Servers bind distinct loopback addresses (127.0.0.x) so that the search for "the server on
another port" only sees this test's sockets, not whatever else runs on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import errno
import itertools
import socket
import ssl
import time
from pathlib import Path

import httpx
import psutil
import pytest
import trustme
from targets import MODEL, MODELS, target

from conftest import SHORT, by_code, codes, diagnose
from lmdoctor import net
from lmdoctor.context import Settings
from lmdoctor.findings import Severity
from lmdoctor.net import Fault
from loopback import RawServer, Server, TLSServer, free_port
from portable import need_extra_loopback

DOWNSTREAM = {"proxy.skipped", "server.skipped", "auth.skipped"}
_next_host = itertools.count(31)


def loopback_host() -> str:
    """A loopback address of its own for each server (127.0.0.31, .32, ...); skips where
    only 127.0.0.1 is loopback (macOS)."""
    need_extra_loopback()
    return f"127.0.0.{next(_next_host) % 200 + 31}"


def assert_root_cause(found: list, code: str) -> None:
    """`code` is the only error, and the checks after the network were skipped for it."""
    assert codes(found, Severity.ERROR) == [code], [(f.code, f.summary) for f in found]
    assert set(codes(found)) >= DOWNSTREAM, codes(found)


@pytest.fixture(autouse=True)
def bare_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test machine may itself be a container: present a plain host unless a test says
    otherwise (detect_runtime reads its files under net.SYSTEM_ROOT)."""
    root = tmp_path / "root"
    root.mkdir()
    monkeypatch.setattr(net, "SYSTEM_ROOT", root)
    return root


# --- TLS servers ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()




# --- healthy ---------------------------------------------------------------------------------


def test_reachable_server_gives_net_ok_with_phase_timings():
    with Server({"/v1/models": MODELS}, host=loopback_host()) as server:
        found = diagnose(target(server.url + "/v1"), only=["network"])
    assert codes(found) == ["config.ok", "net.ok"]
    evidence = by_code(found, "net.ok").evidence
    assert {"resolve_ms", "connect_ms", "first_byte_ms"} <= set(evidence)
    assert "tls_ms" not in evidence and evidence["status"] == 200
    assert server.seen[0].path == "/v1/models"  # the first-byte probe asks the API itself


def test_https_with_a_trusted_certificate_is_ok(ca, tmp_path, monkeypatch, simulate):
    simulate("Linux")  # OpenSSL's verifier and SSL_CERT_FILE (macOS/Windows: the OS store)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))  # what Go's SSL_CERT_FILE does too
    with TLSServer.issued_by(ca) as server:
        found = diagnose(target(f"https://localhost:{server.port}/v1"), only=["network"])
    evidence = by_code(found, "net.ok").evidence
    assert evidence["tls_ms"] > 0


def test_localhost_is_tried_on_every_address_and_the_working_one_named():
    """Server on 127.0.0.1 only, config says localhost (which may resolve to ::1 first)."""
    with Server({"/v1/models": MODELS}, host="127.0.0.1") as server:
        found = diagnose(target(f"http://localhost:{server.port}/v1"), only=["network"])
    addresses = [a[4][0] for a in socket.getaddrinfo("localhost", 1, type=socket.SOCK_STREAM)]
    assert by_code(found, "net.ok").evidence["address"] == "127.0.0.1"
    if "::1" in addresses:
        fallback = by_code(found, "net.address_fallback")
        assert fallback.severity is Severity.INFO and "127.0.0.1" in fallback.fix
    else:  # this machine's /etc/hosts has no ::1 localhost; tests/test_netns.py forces it
        assert "net.address_fallback" not in codes(found)


# --- nothing there, or something else there ---------------------------------------------------


def test_refused_on_this_machine_is_confirmed_by_its_listening_sockets():
    host = loopback_host()
    found = diagnose(target(f"http://{host}:{free_port(host)}/v1"))
    assert_root_cause(found, "net.refused")
    refused = by_code(found, "net.refused")
    assert refused.evidence["confirmed_by_listeners"] is True
    assert refused.evidence["errno"] == "ECONNREFUSED"
    assert "model_list[0]" in refused.fix
    assert "net.container_localhost" not in codes(found)


def test_refused_but_an_llm_server_on_another_port_is_net_wrong_port():
    host = loopback_host()
    with Server({"/v1/models": MODELS}, host=host) as server:
        wrong = free_port(host)
        found = diagnose(target(f"http://{host}:{wrong}/v1"))
    assert_root_cause(found, "net.wrong_port")
    finding = by_code(found, "net.wrong_port")
    assert finding.evidence["suggested_api_base"] == f"http://{host}:{server.port}/v1"
    assert finding.evidence["found"][0]["models"] == [MODEL]
    assert f"http://{host}:{server.port}/v1" in finding.fix
    assert "config.json model_list[0]" in finding.fix


def _lan_address() -> str | None:
    for addrs in psutil.net_if_addrs().values():
        for a in addrs:
            if a.family == socket.AF_INET and not a.address.startswith(("127.", "169.254.")):
                return a.address
    return None


def test_server_on_loopback_only_reached_through_this_machines_lan_address():
    lan = _lan_address()
    if lan is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    with Server({"/v1/models": MODELS}, host="127.0.0.1") as server:
        found = diagnose(target(f"http://{lan}:{server.port}/v1"))
    assert_root_cause(found, "net.loopback_only")
    finding = by_code(found, "net.loopback_only")
    assert finding.evidence["listeners"][0]["address"] == "127.0.0.1"
    assert finding.evidence["process"] == psutil.Process().name()
    assert "0.0.0.0" in finding.fix and f"127.0.0.1:{server.port}" in finding.fix


def test_server_bound_to_another_address_of_this_machine_is_net_wrong_address():
    """LM Studio's 'Serve on Local Network' binds one adapter; here: 127.0.0.1 vs 127.0.0.x."""
    with Server({"/v1/models": MODELS}, host="127.0.0.1") as server:
        found = diagnose(target(f"http://{loopback_host()}:{server.port}/v1"))
    assert_root_cause(found, "net.wrong_address")
    finding = by_code(found, "net.wrong_address")
    assert f"http://127.0.0.1:{server.port}/v1" in finding.fix
    assert finding.evidence["listeners"][0]["address"] == "127.0.0.1"


def _hang(conn: socket.socket) -> None:
    """Reads, never answers: returns when the client hangs up (far beyond SHORT's timeouts)."""
    conn.settimeout(60)
    while conn.recv(4096):
        pass


def test_port_that_accepts_and_never_answers_is_net_no_response():
    with RawServer(_hang, host=loopback_host()) as server:
        found = diagnose(target(server.url + "/v1"), settings=SHORT)
    assert_root_cause(found, "net.no_response")
    assert by_code(found, "net.no_response").evidence["phase"] == "first_byte"


def test_a_hung_listener_next_door_costs_the_search_one_bounded_wait():
    host = loopback_host()
    with RawServer(_hang, host=host):
        started = time.perf_counter()
        found = diagnose(target(f"http://{host}:{free_port(host)}/v1"), settings=SHORT)
        elapsed = time.perf_counter() - started
    assert_root_cause(found, "net.refused")
    # one connect and two read timeouts (4 s), and room for a loaded machine; not the hang's 60 s
    assert elapsed < 1.0 + 2 * 1.5 + 6


def _ssh(conn: socket.socket) -> None:
    conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")
    time.sleep(1)


def test_a_non_http_banner_is_not_an_llm_server():
    with RawServer(_ssh, host=loopback_host()) as server:
        found = diagnose(target(server.url + "/v1"))
    assert_root_cause(found, "http.not_llm_server")
    finding = by_code(found, "http.not_llm_server")
    assert finding.evidence["banner"] == "SSH-2.0-OpenSSH_9.6"
    assert "SSH server" in finding.summary and finding.check == "network"


def test_a_banner_where_an_llm_server_answers_on_another_port_is_net_wrong_port():
    host = loopback_host()
    with RawServer(_ssh, host=host) as ssh, Server({"/v1/models": MODELS}, host=host) as llm:
        found = diagnose(target(ssh.url + "/v1"))
    assert_root_cause(found, "net.wrong_port")
    finding = by_code(found, "net.wrong_port")
    assert finding.evidence["banner"].startswith("SSH-2.0")
    assert finding.evidence["suggested_api_base"] == f"http://{host}:{llm.port}/v1"


def test_unknown_host_name_is_net_dns():
    found = diagnose(target("http://nonexistent.invalid:1234/v1"))
    assert_root_cause(found, "net.dns")
    assert by_code(found, "net.dns").evidence["error"] == "gaierror"


def test_black_holed_port_is_net_timeout_within_one_connect_timeout():
    """A listener whose accept queue is full drops new SYNs: a black hole without root."""
    host = loopback_host()
    with socket.socket() as full:
        full.bind((host, 0))
        full.listen(0)
        filler = socket.create_connection(full.getsockname())
        try:
            started = time.perf_counter()
            found = diagnose(target(f"http://{host}:{full.getsockname()[1]}/v1"), settings=SHORT)
            elapsed = time.perf_counter() - started
        finally:
            filler.close()
    assert_root_cause(found, "net.timeout")
    assert "firewall" in by_code(found, "net.timeout").fix
    assert elapsed < 3 * 1.0 + 2  # one connect timeout (1 s) and change, generously


# --- TLS -------------------------------------------------------------------------------------


def test_self_signed_certificate_is_net_tls_invalid_with_the_verifiers_reason(ca, simulate):
    simulate("Linux")  # OpenSSL's verify codes
    with TLSServer.issued_by(ca) as server:
        found = diagnose(target(f"https://127.0.0.1:{server.port}/v1"))
    assert_root_cause(found, "net.tls_invalid")
    evidence = by_code(found, "net.tls_invalid").evidence
    assert evidence["verify_code"] in (19, 20)  # self-signed in chain / unknown issuer
    assert evidence["verify_message"]


def test_certificate_for_another_name_is_net_tls_invalid(ca, tmp_path, monkeypatch, simulate):
    simulate("Linux")  # OpenSSL's verifier and SSL_CERT_FILE
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    with TLSServer.issued_by(ca, "llm.example.test") as server:
        found = diagnose(target(f"https://127.0.0.1:{server.port}/v1"), only=["network"])
    finding = by_code(found, "net.tls_invalid")
    assert finding.evidence["verify_code"] in (62, 64)  # hostname / IP address mismatch
    assert "host name" in finding.fix


def test_https_to_a_plain_http_server_is_net_tls_mismatch():
    with Server({"/v1/models": MODELS}, host=loopback_host()) as server:
        url = server.url.replace("http://", "https://") + "/v1"
        found = diagnose(target(url))
    assert_root_cause(found, "net.tls_mismatch")
    finding = by_code(found, "net.tls_mismatch")
    assert finding.evidence["ssl_reason"]  # e.g. WRONG_VERSION_NUMBER
    assert f"{server.url}/v1" in finding.fix


def test_http_to_a_tls_port_is_net_tls_mismatch(ca):
    host = loopback_host()
    with TLSServer.issued_by(ca, host=host) as server:
        found = diagnose(target(f"http://{host}:{server.port}/v1"))
    assert_root_cause(found, "net.tls_mismatch")
    mismatch = by_code(found, "net.tls_mismatch")
    assert f"https://{host}:{server.port}/v1" in mismatch.fix
    # OpenSSL closes on a plain request without an alert: the second look made a handshake
    assert "a TLS handshake succeeds" in mismatch.detail


# --- containers and WSL2 -----------------------------------------------------------------------


def test_refused_localhost_inside_a_container_warns_that_localhost_is_the_container(bare_host):
    (bare_host / ".dockerenv").touch()
    (bare_host / "proc/net").mkdir(parents=True)
    (bare_host / "proc/net/route").write_text(
        "Iface\tDestination\tGateway\tFlags\n"
        "eth0\t00000000\t010011AC\t0003\n"  # default via 172.17.0.1
    )
    host = loopback_host()
    found = diagnose(target(f"http://{host}:{free_port(host)}/v1"))
    assert_root_cause(found, "net.refused")
    warning = by_code(found, "net.container_localhost")
    assert warning.severity is Severity.WARN
    assert "host.docker.internal" in warning.fix and "host-gateway" in warning.fix
    assert warning.evidence["gateway"] == "172.17.0.1"


def test_refused_localhost_under_wsl2_names_the_windows_host(bare_host):
    (bare_host / "proc").mkdir()
    (bare_host / "proc/version").write_text(
        "Linux version 5.15.153.1-microsoft-standard-WSL2 (root@1234) #1 SMP"
    )
    (bare_host / "etc").mkdir()
    (bare_host / "etc/resolv.conf").write_text("nameserver 172.29.96.1\n")
    host = loopback_host()
    found = diagnose(target(f"http://{host}:{free_port(host)}/v1"))
    warning = by_code(found, "net.container_localhost")
    assert "172.29.96.1" in warning.fix and "mirrored" in warning.fix


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.mark.parametrize(
    ("files", "container", "wsl2"),
    [
        ({}, None, False),
        ({".dockerenv": ""}, "docker", False),
        ({"run/.containerenv": ""}, "podman", False),
        ({"proc/1/cgroup": "0::/kubepods/besteffort/pod1/abc\n"}, "container", False),
        ({"proc/1/cgroup": "0::/\n"}, None, False),
        ({"proc/version": "Linux version 5.15.1-microsoft-standard-WSL2"}, None, True),
        ({"proc/version": "Linux version 4.4.0-19041-Microsoft (WSL1)"}, None, False),
        # a self-built kernel under WSL2: WSL's own markers say so
        (
            {"proc/version": "Linux version 6.6.36-custom", "mnt/wsl/resolv.conf": ""},
            None,
            True,
        ),
        (
            {"proc/version": "Linux version 6.6.36-custom",
             "proc/sys/fs/binfmt_misc/WSLInterop": "enabled\n"},
            None,
            True,
        ),
        # WSL1 leaves the same marker, but its kernel string says Microsoft
        (
            {"proc/version": "Linux version 4.4.0-19041-Microsoft",
             "proc/sys/fs/binfmt_misc/WSLInterop": "enabled\n"},
            None,
            False,
        ),
        ({"proc/version": "Linux version 6.6.36-custom"}, None, False),
    ],
)
def test_detect_runtime_reads_files_under_the_given_root(tmp_path, files, container, wsl2):
    runtime = net.detect_runtime(_tree(tmp_path, files))
    assert (runtime.container, runtime.wsl2) == (container, wsl2)


# --- the one classification helper -------------------------------------------------------------


def _with_cause(outer: BaseException, cause: BaseException) -> BaseException:
    outer.__cause__ = cause
    return outer


def _ssl_error(reason: str) -> ssl.SSLError:
    exc = ssl.SSLError(1, "text that must not matter")
    exc.reason = reason  # type: ignore[misc]
    return exc


def _verify_error() -> ssl.SSLCertVerificationError:
    exc = ssl.SSLCertVerificationError(1, "certificate verify failed")
    exc.verify_code, exc.verify_message = 10, "certificate has expired"
    return exc


@pytest.mark.parametrize(
    ("exc", "fault"),
    [
        (ConnectionRefusedError(errno.ECONNREFUSED, "timed out (misleading text)"), Fault.REFUSED),
        (OSError(errno.EHOSTUNREACH, "No route to host"), Fault.UNREACHABLE),
        (OSError(errno.ENETUNREACH, "Network is unreachable"), Fault.UNREACHABLE),
        (OSError(errno.ETIMEDOUT, "connection refused (misleading text)"), Fault.TIMEOUT),
        (OSError(errno.ECONNRESET, "reset"), Fault.RESET),
        (TimeoutError(), Fault.TIMEOUT),
        (asyncio.TimeoutError(), Fault.TIMEOUT),
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), Fault.DNS),
        (_ssl_error("WRONG_VERSION_NUMBER"), Fault.TLS_MISMATCH),
        (_ssl_error("TLSV1_ALERT_PROTOCOL_VERSION"), Fault.TLS_ERROR),
        (_verify_error(), Fault.TLS_INVALID),
        (_with_cause(httpx.ConnectError("x"), ConnectionRefusedError(111, "")), Fault.REFUSED),
        (httpx.ConnectTimeout("x"), Fault.TIMEOUT),
        (ValueError("connection refused"), Fault.OTHER),
    ],
)
def test_classify_uses_types_and_errno_never_message_text(exc, fault):
    assert net.classify(exc).fault is fault


def test_classify_keeps_the_verifiers_reason_as_evidence():
    evidence = net.classify(_verify_error()).evidence()
    assert evidence["verify_code"] == 10
    assert evidence["verify_message"] == "certificate has expired"


def test_connect_all_costs_one_timeout_for_several_dead_addresses():
    """Every address is tried at once; two black holes cost one connect timeout, not two."""
    host = loopback_host()
    holes, fillers = [], []
    try:
        for _ in range(2):
            hole = socket.socket()
            hole.bind((host, 0))
            hole.listen(0)
            fillers.append(socket.create_connection(hole.getsockname()))
            holes.append(hole)
        targets = [(socket.AF_INET, h.getsockname()) for h in holes]
        started = time.perf_counter()
        attempts, winner = asyncio.run(net.connect_all(targets, 0.5))
        elapsed = time.perf_counter() - started
    finally:
        for s in holes + fillers:
            s.close()
    assert winner is None and [a.failure.fault for a in attempts] == [Fault.TIMEOUT] * 2
    assert elapsed < 0.5 * 2  # concurrent: about 0.5 s, certainly below the sum


def test_probe_names_the_failing_phase():
    probe = asyncio.run(net.probe(f"http://127.0.0.1:{free_port()}/v1", 0.5, 0.5))
    assert (probe.phase, probe.failure.fault) == ("connect", Fault.REFUSED)
    assert set(probe.timing_evidence()) == {"resolve_ms", "connect_ms"}


def test_settings_fast_enough_for_these_tests():
    assert Settings().connect_timeout == 3.0  # the documented default, per phase
