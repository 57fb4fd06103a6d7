"""Firewall and LAN faults, built for real in network namespaces (root, ip, iptables).

Each test makes its own namespace joined to this one by a veth pair (10.213.N.0/30) and puts
its iptables rules and servers inside it; the namespace and its veths are deleted afterwards.
Without root or the tools the tests skip with the reason (CI, with
LMDOCTOR_REQUIRE_INTEGRATION=1, fails instead).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import netns
from conftest import by_code, codes, diagnose
from lmdoctor import net
from lmdoctor.findings import Severity
from lmdoctor.target import Target
from netns import Netns

pytestmark = pytest.mark.netns
PORT = 8123
DOWNSTREAM = {"proxy.skipped", "server.skipped", "auth.skipped"}


def _skip_or_fail() -> None:
    reason = netns.unavailable()
    if reason and netns.REQUIRED:
        pytest.fail(f"LMDOCTOR_REQUIRE_INTEGRATION=1 but: {reason}", pytrace=False)
    if reason:
        pytest.skip(reason)


@pytest.fixture
def ns() -> Iterator[Netns]:
    _skip_or_fail()
    space = Netns()
    try:
        yield space
    finally:
        space.close()


@pytest.fixture(autouse=True)
def bare_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "root"
    root.mkdir()
    monkeypatch.setattr(net, "SYSTEM_ROOT", root)


def target(url: str) -> Target:
    return Target(name="lan", api_base=url, model="m", model_id="m", entry="model_list[0]")


def assert_root_cause(found: list, code: str) -> None:
    assert codes(found, Severity.ERROR) == [code], [(f.code, f.summary) for f in found]
    assert set(codes(found)) >= DOWNSTREAM, codes(found)


def test_firewall_drop_is_net_timeout(ns: Netns):
    ns.iptables("-A", "INPUT", "-p", "tcp", "--dport", str(PORT), "-j", "DROP")
    found = diagnose(target(f"http://{ns.ip}:{PORT}/v1"))
    assert_root_cause(found, "net.timeout")
    finding = by_code(found, "net.timeout")
    assert "Windows Defender Firewall" in finding.fix and "ufw" in finding.fix


def test_reject_with_host_unreachable_is_net_unreachable(ns: Netns):
    ns.iptables(
        "-A", "INPUT", "-p", "tcp", "--dport", str(PORT),
        "-j", "REJECT", "--reject-with", "icmp-host-unreachable",
    )  # fmt: skip
    found = diagnose(target(f"http://{ns.ip}:{PORT}/v1"))
    assert_root_cause(found, "net.unreachable")
    assert by_code(found, "net.unreachable").evidence["errno"] == "EHOSTUNREACH"


def test_reject_with_port_unreachable_looks_like_refused_and_says_so(ns: Netns):
    ns.iptables("-A", "INPUT", "-p", "tcp", "--dport", str(PORT), "-j", "REJECT")
    found = diagnose(target(f"http://{ns.ip}:{PORT}/v1"))
    assert_root_cause(found, "net.refused")
    assert "REJECT" in by_code(found, "net.refused").detail


def test_lan_server_on_a_well_known_port_is_net_wrong_port(ns: Netns):
    server = ns.serve(ns.ip, 11434)
    try:
        found = diagnose(target(f"http://{ns.ip}:{PORT}/v1"))
    finally:
        server.kill()
        server.wait()
    assert_root_cause(found, "net.wrong_port")
    finding = by_code(found, "net.wrong_port")
    assert finding.evidence["suggested_api_base"] == f"http://{ns.ip}:11434/v1"
    assert finding.evidence["found"][0]["models"] == [netns.MODEL]


def test_loopback_only_server_seen_from_the_namespaces_own_address(ns: Netns):
    """The whole probe runs inside the namespace, where 10.213.N.2 is a local address."""
    found = ns.diagnose(f"http://{ns.ip}:{PORT}/v1", "--serve", f"127.0.0.1:{PORT}")
    errors = [f["code"] for f in found if f["severity"] == "error"]
    assert errors == ["net.loopback_only"], found
    finding = next(f for f in found if f["code"] == "net.loopback_only")
    assert finding["evidence"]["listeners"][0]["address"] == "127.0.0.1"
    assert finding["evidence"]["process"]


def test_local_listener_behind_a_reject_rule_is_named(ns: Netns):
    ns.iptables(
        "-A", "INPUT", "-p", "tcp", "--dport", str(PORT),
        "-j", "REJECT", "--reject-with", "tcp-reset",
    )  # fmt: skip
    found = ns.diagnose(f"http://{ns.ip}:{PORT}/v1", "--listen", f"0.0.0.0:{PORT}")
    finding = next(f for f in found if f["severity"] == "error")
    assert finding["code"] == "net.unreachable", found
    assert finding["evidence"]["firewall"] == "reject"


def test_localhost_resolving_to_ipv6_first_names_the_ipv4_address_that_works():
    _skip_or_fail()
    space = Netns(hosts="::1 localhost\n127.0.0.1 localhost\n")
    try:
        found = space.diagnose(f"http://localhost:{PORT}/v1", "--serve", f"127.0.0.1:{PORT}")
    finally:
        space.close()
    by = {f["code"]: f for f in found}
    assert "net.ok" in by and by["net.ok"]["evidence"]["address"] == "127.0.0.1", found
    fallback = by["net.address_fallback"]
    assert fallback["severity"] == "info"
    results = {a["address"]: a["result"] for a in fallback["evidence"]["addresses"]}
    assert results == {"::1": "refused", "127.0.0.1": "ok"}
