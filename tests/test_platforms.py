"""Windows and macOS behaviour, tested here on Linux under each platform's simulated rules
(issue 16): the platform seam (lmdoctor/system.py), psutil answers per platform
(tests/fixtures/psutil/), Windows' exception recipes (tests/fixtures/windows_errors.json),
cp1252 redirected output, and the OS-specific advice. Numbers in comments are the issue's items.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import errno
import json
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest
import trustme
from targets import MODEL, MODELS, target

from conftest import PATIENT, by_code, diagnose
from lmdoctor import advice, hardware, net, servers, system
from lmdoctor.config import keys, locate
from lmdoctor.net import Fault, Listener
from lmdoctor.redact import home_to_tilde
from lmdoctor.system import System
from loopback import Server, TLSServer, free_port
from portable import utf8
from psutil_fake import FakePsutil

ROOT = Path(__file__).parent.parent
FIXTURES = Path(__file__).parent / "fixtures"


# --- 1. cp1252 redirected output --------------------------------------------------------------

RUNS = [
    *(["check", "--format", f] for f in ("table", "json", "markdown", "junit", "github")),
    ["check", "-v"],
    *(["report", "--format", f] for f in ("markdown", "json")),
    *(["scan", "--format", f] for f in ("table", "json")),
    *(["hardware", "--format", f] for f in ("table", "json")),
    *(["estimate", "qwen3:8b", "--format", f] for f in ("table", "json")),
    ["checks"],
    ["--help"],
]


def test_every_command_and_format_survives_a_cp1252_pipe(tmp_path):
    """Windows with output redirected: stdout is cp1252; `→`, `…`, box drawing must not crash."""
    with Server({"/v1/models": MODELS}) as server:
        config = tmp_path / "config.json"
        entries = [
            {"model_name": "ok", "model": f"openai/{MODEL}", "api_base": server.url + "/v1"},
            {"model_name": "gone", "model": "openai/nothing-here", "api_base": server.url},
        ]
        config.write_text(
            json.dumps({"version": 3, "model_list": entries, "agents": {
                "defaults": {"model_name": "ok"}}}),
            encoding="utf-8",
        )
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        env.update(PYTHONIOENCODING="cp1252", PICOCLAW_CONFIG=str(config), NO_COLOR="1")
        env.pop("PYTHONUTF8", None)

        def run(args: list[str]) -> tuple[list[str], subprocess.CompletedProcess[bytes]]:
            # generous: under load a 0.5 s budget times checks out (not what is tested here)
            timeout = ["--timeout", "3"] if args[0] in ("check", "report", "scan") else []
            cmd = [sys.executable, "-m", "lmdoctor", *args, *timeout]
            return args, subprocess.run(
                cmd, capture_output=True, env=env, timeout=60, stdin=subprocess.DEVNULL
            )

        with ThreadPoolExecutor(4) as pool:
            done = list(pool.map(run, RUNS))
    for args, result in done:
        err = result.stderr.decode("cp1252", "replace")
        assert "Traceback" not in err and "UnicodeEncodeError" not in err, (args, err)
        assert result.returncode in (0, 1), (args, result.returncode, err)
        out = result.stdout.decode("cp1252")  # strictly: every byte is cp1252
        assert out.strip(), args
    table = dict((" ".join(a), r) for a, r in done)["check --format table"]
    assert b"->" in table.stdout or b"?" not in table.stdout


def test_the_progress_line_uses_no_ansi_erase():
    """11: old Windows consoles print "\\x1b[2K" literally."""
    from lmdoctor.cli import _Progress

    progress = _Progress(3)
    progress.done = 1
    assert "\x1b" not in progress.line() and progress.line().startswith("\r")


# --- 2. listeners when the system-wide table is denied ----------------------------------------


@pytest.mark.parametrize(
    ("fixture", "complete", "expected"),
    [
        ("linux-root", True, {(1234, "lm-studio"), (11434, "ollama"), (22, "sshd")}),
        ("linux-user", True, {(1234, "lm-studio"), (11434, None), (22, None)}),
        ("macos-user", False, {(1234, "LM Studio"), (11434, "ollama")}),
        ("windows", True, {(1234, "LM Studio.exe"), (11434, "ollama.exe"), (8080,
                                                                             "llama-server.exe"),
                           (135, "System")}),
    ],
)
def test_listeners_per_platform(fixture, complete, expected):
    found = net.listeners(FakePsutil(fixture))
    assert found is not None and found.complete is complete
    assert {(x.port, x.process) for x in found} == expected


def test_macos_user_listeners_keep_the_bind_address():
    found = net.listeners(FakePsutil("macos-user"))
    assert [(x.ip, x.port) for x in found or () if x.port == 11434] == [
        ("127.0.0.1", 11434),
        ("::1", 11434),
    ]


def test_windows_process_names_name_the_server():
    for process, kind in (
        ("ollama.exe", "ollama"),
        ("ollama app.exe", "ollama"),
        ("LM Studio.exe", "lmstudio"),
        ("llama-server.exe", "llamacpp"),
    ):
        found = servers.by_process(process)
        assert found is not None and found.id == kind, process


@pytest.fixture
def denied(monkeypatch):
    """psutil's system-wide table denied, as for every non-root user on macOS."""

    def deny(kind: str = "inet") -> list:
        raise psutil.AccessDenied()

    monkeypatch.setattr(psutil, "net_connections", deny)


def test_wrong_port_still_found_when_the_system_table_is_denied(denied):
    with Server({"/v1/models": MODELS}) as server:
        wrong = free_port()
        found = diagnose(target(f"http://127.0.0.1:{wrong}/v1"), only=["network"])
    finding = by_code(found, "net.wrong_port")
    assert finding.evidence["suggested_api_base"] == f"http://127.0.0.1:{server.port}/v1"


def _lan_address() -> str | None:
    for addrs in psutil.net_if_addrs().values():
        for a in addrs:
            if a.family == socket.AF_INET and not a.address.startswith(("127.", "169.254.")):
                return a.address
    return None


def test_loopback_only_still_found_when_the_system_table_is_denied(denied):
    lan = _lan_address()
    if lan is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    with Server({"/v1/models": MODELS}, host="127.0.0.1") as server:
        found = diagnose(target(f"http://{lan}:{server.port}/v1"), only=["network"])
    finding = by_code(found, "net.loopback_only")
    assert finding.evidence["process"] == psutil.Process().name()


# --- 3. Windows GPUs (AMD, Intel) and "unknown" rather than "fits cpu" -------------------------

WINDOWS_REGISTRY = json.loads(utf8(FIXTURES / "hardware" / "windows-registry-rx7900xtx.json"))
WINDOWS_REGISTRY.pop("_comment")


def test_windows_snapshot_finds_the_amd_gpu_and_the_cpu():
    win = System.simulate("Windows", registry=WINDOWS_REGISTRY, cpu_features=[40, 41])
    snap = hardware.snapshot(False, win)
    names = [g["name"] for g in snap["gpus"]]
    assert names == ["AMD Radeon RX 7900 XTX", "Intel(R) UHD Graphics 770"]
    amd = snap["gpus"][0]
    assert amd["vendor"] == "amd" and amd["vram_total_gib"] == pytest.approx(23.98, abs=0.01)
    assert amd["bandwidth_gbps"] == 960 and snap["gpus_known"] is True
    assert snap["cpu"]["model"] == "AMD Ryzen 9 7950X 16-Core Processor"
    assert snap["cpu"]["isa"]["avx2"] and snap["cpu"]["isa"]["avx512"]
    assert snap["os"]["system"] == "Windows"


def test_a_model_that_fits_the_windows_amd_gpu_is_placed_on_it():
    from lmdoctor import estimate, modelname

    win = System.simulate("Windows", registry=WINDOWS_REGISTRY)
    machine = estimate.machine_from_snapshot(hardware.snapshot(False, win))
    est = estimate.estimate(modelname.parse("qwen2.5:14b", "ollama"), machine, 8192, 1000)
    assert est.fits == "gpu", est.fits


def test_unreadable_windows_adapters_make_the_gpus_unknown():
    snap = hardware.snapshot(False, System.simulate("Windows"))
    assert snap["gpus"] == [] and snap["gpus_known"] is False


# --- 4. key files across drives and UNC shares ------------------------------------------------


@pytest.mark.parametrize(
    ("folder", "name"),
    [
        ("C:\\Users\\ann\\.picoclaw", "D:\\keys\\x.key"),
        ("\\\\server\\share\\picoclaw", "C:\\keys\\x.key"),
        ("C:\\Users\\ann\\.picoclaw", "\\\\server\\share\\x.key"),
    ],
)
def test_a_key_file_on_another_drive_is_outside_the_folder_not_a_crash(folder, name):
    win = System.simulate("Windows")
    problem = keys.resolve("file://" + name, folder, {}, win)
    assert isinstance(problem, keys.KeyProblem)
    assert "outside the config folder" in problem.summary


def test_a_key_file_inside_a_unc_config_folder_is_inside():
    win = System.simulate("Windows")
    problem = keys.resolve("file://x.key", "\\\\server\\share\\picoclaw", {}, win)
    assert isinstance(problem, keys.KeyProblem)
    assert "does not exist" in problem.summary  # looked for inside: not "outside the folder"
    assert problem.evidence["resolved"] == "\\\\server\\share\\picoclaw\\x.key"


# --- 5. Windows refuses only after retrying ---------------------------------------------------


def _listen_overflows() -> int:
    """SYNs this network namespace dropped on a full accept queue (TcpExt ListenOverflows)."""
    lines = Path("/proc/net/netstat").read_text().splitlines()
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            return int(values.split()[names.split().index("ListenOverflows")])
    return 0


class SlowRefusal:
    """A port that refuses only after the client's SYN retransmit, as Windows reports a
    refusal only after retrying (~2 s): a listener with a full backlog drops the SYN, then
    closes; the retransmitted SYN (~1 s) gets the RST."""

    def __init__(self, host: str = "127.0.0.1", close_after: float | None = None) -> None:
        self.listener = socket.socket()
        self.listener.bind((host, 0))
        self.listener.listen(0)
        self.host, self.port = host, self.listener.getsockname()[1]
        self.fill = []
        for _ in range(3):  # fill the accept queue: further SYNs are dropped
            c = socket.socket()
            c.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                c.connect((host, self.port))
            self.fill.append(c)
        time.sleep(0.05)
        if close_after is not None:
            self.timer = threading.Timer(close_after, self.close)
        else:
            # close right after the client's first SYN was dropped, so its retransmit (~1 s
            # later) meets the RST however late this process gets the CPU back afterwards
            self.timer = threading.Thread(target=self._close_after_a_drop, daemon=True)
        self.timer.start()

    def _close_after_a_drop(self, patience: float = 2.0) -> None:
        seen = _listen_overflows()
        deadline = time.monotonic() + patience
        while _listen_overflows() == seen and time.monotonic() < deadline:
            time.sleep(0.005)
        self.close()

    def close(self) -> None:
        self.listener.close()
        for c in self.fill:
            c.close()


def test_windows_waits_for_a_slow_refusal_instead_of_calling_it_a_timeout(simulate):
    if not sys.platform.startswith("linux"):
        pytest.skip("the slow refusal is emulated with Linux's SYN-queue behaviour")
    simulate("Windows")
    slow = SlowRefusal()
    try:
        p = asyncio.run(net.probe(f"http://127.0.0.1:{slow.port}/v1", 0.5, 0.5))
    finally:
        slow.timer.join()
    assert p.phase == "connect" and p.failure is not None
    assert p.failure.fault is Fault.REFUSED, p.failure


def test_linux_keeps_the_users_connect_timeout():
    assert net.connect_timeout_for(0.5, System.simulate("Linux")) == 0.5
    assert net.connect_timeout_for(0.5, System.simulate("Windows")) == net.WINDOWS_REFUSAL_S
    assert net.connect_timeout_for(5, System.simulate("Windows")) == 5


def test_a_slow_second_address_costs_the_grace_period_not_the_timeout():
    """localhost on Windows: ::1 refuses after ~2 s while 127.0.0.1 answers at once."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the slow address is emulated with Linux's SYN-queue behaviour")
    with Server({"/v1/models": MODELS}) as server:
        slow = SlowRefusal(close_after=3.0)
        try:
            targets = [
                (socket.AF_INET, ("127.0.0.1", slow.port)),
                (socket.AF_INET, ("127.0.0.1", server.port)),
            ]

            async def go() -> tuple[list[net.Attempt], object, float]:
                started = time.perf_counter()
                attempts, winner = await net.connect_all(targets, 2.5)
                if winner is not None:
                    winner[0].close()
                return attempts, winner, time.perf_counter() - started

            attempts, winner, elapsed = asyncio.run(go())
        finally:
            slow.timer.cancel()
            slow.close()
    assert winner is not None and elapsed < net.GRACE_S + 0.5, elapsed
    assert [a.ok for a in attempts] == [False, True]


# --- 6. Windows exception recipes through the one classifier ----------------------------------

RECIPES = json.loads(utf8(FIXTURES / "windows_errors.json"))["recipes"]


def _as_windows_raises(recipe: dict) -> OSError:
    kind = {"OSError": OSError, "ConnectionRefusedError": ConnectionRefusedError,
            "TimeoutError": TimeoutError, "ConnectionResetError": ConnectionResetError,
            "ConnectionAbortedError": ConnectionAbortedError}[recipe["type"]]  # fmt: skip
    exc = kind(recipe["errno"], recipe["strerror"])
    exc.winerror = recipe["winerror"]  # type: ignore[attr-defined] - set by CPython on Windows
    return exc


@pytest.mark.parametrize("recipe", RECIPES, ids=[str(r["winerror"]) for r in RECIPES])
def test_windows_errors_are_classified_by_winerror(recipe):
    failure = net.classify(_as_windows_raises(recipe))
    assert failure.fault.value == recipe["fault"]
    assert failure.facts["winerror"] == recipe["winerror"]
    assert failure.errno_name == recipe["posix"]


def test_windows_connect_timeout_is_a_timeout_not_unreachable():
    import httpx

    try:
        raise httpx.ConnectError("connect failed") from _as_windows_raises(
            next(r for r in RECIPES if r["winerror"] == 121)
        )
    except httpx.ConnectError as exc:
        assert net.classify(exc).fault is Fault.TIMEOUT


# --- 7. api_base on 0.0.0.0 -------------------------------------------------------------------


def test_unspecified_address_is_dialed_as_this_machine_like_go():
    with Server({"/v1/models": MODELS}) as server:
        p = asyncio.run(net.probe(f"http://0.0.0.0:{server.port}/v1", 1, 1))
    assert p.ok and p.address == "127.0.0.1"
    assert [a.address for a in p.attempts] == ["127.0.0.1"]


# --- 8. TLS trust through the OS store --------------------------------------------------------


def test_macos_and_windows_verify_with_the_os_store():
    import truststore

    for name in ("Darwin", "Windows"):
        assert isinstance(net.trust_context(System.simulate(name)), truststore.SSLContext)
    assert not isinstance(net.trust_context(System.simulate("Linux")), truststore.SSLContext)




def test_the_http_client_trusts_the_system_store_not_certifi(tmp_path, monkeypatch, simulate):
    """A CA only in the system store (here SSL_CERT_FILE, which Go reads too) must be trusted by
    every check, not only by the network probe: httpx's certifi default would refuse it."""
    simulate("Linux")  # the store is SSL_CERT_FILE there
    from lmdoctor.http import HttpClient

    ca = trustme.CA()
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    with TLSServer.issued_by(ca, "127.0.0.1") as server:

        async def go() -> int:
            http = HttpClient(PATIENT)
            try:
                reply = await http.raw.get(f"https://127.0.0.1:{server.port}/v1/models")
                return reply.status_code
            finally:
                await http.aclose()

        assert asyncio.run(go()) == 200


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("Darwin", "Keychain Access"),
        ("Windows", "certlm.msc"),
        ("Linux", "update-ca-certificates"),
    ],
)
def test_certificate_trust_advice_per_os(simulate, name, words):
    simulate(name)
    assert words in advice.trust_fix()


# --- 9. macOS Local Network privacy -----------------------------------------------------------


def _unreachable_fix(name: str, address: str, err: str) -> str:
    from lmdoctor_checks.network import _unreachable

    p = net.Probe(f"http://{address}:1234/v1", "http", address, 1234, address=address)
    p.failure = net.Failure(Fault.UNREACHABLE, "OSError", getattr(errno, err))
    finding = _unreachable(p, {})
    return finding.detail + " " + finding.fix


def test_macos_ehostunreach_to_a_lan_address_names_local_network_privacy(simulate):
    simulate("Darwin")
    text = _unreachable_fix("Darwin", "192.168.1.20", "EHOSTUNREACH")
    assert "Local Network" in text and "ip route" not in text


def test_route_advice_per_os(simulate):
    simulate("Windows")
    assert "Test-NetConnection" in _unreachable_fix("Windows", "10.0.0.5", "ENETUNREACH")
    simulate("Linux")
    assert "ip route get" in _unreachable_fix("Linux", "10.0.0.5", "ENETUNREACH")


# --- 10. config lookup: Go's os.UserHomeDir ---------------------------------------------------


def test_windows_config_lookup_uses_userprofile_not_home():
    win = System.simulate("Windows")
    env = {"HOME": "/c/Users/ann-gitbash", "USERPROFILE": "C:\\Users\\ann"}
    _, looked = locate(None, env, win)
    assert looked == [Path("C:\\Users\\ann\\.picoclaw\\config.json")]


def test_unix_config_lookup_uses_home():
    mac = System.simulate("Darwin")
    _, looked = locate(None, {"HOME": "/Users/ann", "USERPROFILE": "x"}, mac)
    assert looked == [Path("/Users/ann/.picoclaw/config.json")]


def test_picoclaw_home_joins_with_the_os_separator():
    win = System.simulate("Windows")
    _, looked = locate(None, {"PICOCLAW_HOME": "H:\\pc"}, win)
    assert looked == [Path("H:\\pc\\config.json")]


# --- 11. the smaller ones ---------------------------------------------------------------------


def test_macos_sysctl_is_run_by_absolute_path():
    sysctl = utf8(FIXTURES / "hardware" / "sysctl-m3max-30c.txt")
    mac = System.simulate("Darwin", commands={"/usr/sbin/sysctl": sysctl})
    snap = hardware.snapshot(False, mac)
    assert [g["name"] for g in snap["gpus"]] == ["Apple M3 Max"]


def test_macos_13_wired_limit_is_read_too():
    assert hardware.wired_limit_mb({"iogpu.wired_limit_mb": "40960"}) == 40960
    assert hardware.wired_limit_mb({"debug.iogpu.wired_limit": str(40 * 2**30)}) == 40960
    assert hardware.wired_limit_mb({"iogpu.wired_limit_mb": "0"}) is None


def test_home_to_tilde_with_windows_homes():
    home = "C:\\Users\\Ann"
    text = "C:/Users/Ann/.picoclaw/config.json, c:\\users\\ann\\x.key, C:\\Users\\Annabel"
    assert home_to_tilde(text, home) == "~/.picoclaw/config.json, ~\\x.key, C:\\Users\\Annabel"


def test_wildcard_v6_listener_is_v6_only_on_windows():
    listener = Listener("::", 11434)
    assert listener.covers("127.0.0.1", System.simulate("Linux"))
    assert not listener.covers("127.0.0.1", System.simulate("Windows"))
    assert listener.covers("::1", System.simulate("Windows"))


def test_readme_commands_quote_for_cmd_exe_too():
    readme = utf8(ROOT / "README.md")
    assert "'.[" not in readme  # cmd.exe passes single quotes through to pip


@pytest.mark.parametrize(
    ("kind", "words"),
    [("ollama", "Expose Ollama to the network"), ("lmstudio", "excludedportrange")],
)
def test_windows_steps_for_the_server(kind, words):
    server = servers.by_id(kind)
    assert words in server.open_to_lan_for("Windows") + " " + server.start_for("Windows")
    assert words not in server.open_to_lan_for("Linux") + " " + server.start_for("Linux")


def test_lms_bootstrap_is_mentioned_where_lms_may_be_missing():
    lmstudio = servers.by_id("lmstudio")
    assert "~/.lmstudio/bin/lms bootstrap" in lmstudio.start_for("Darwin")
    assert "%USERPROFILE%\\.lmstudio\\bin\\lms.exe bootstrap" in lmstudio.start_for("Windows")


def test_the_refused_finding_names_the_windows_steps(simulate):
    from lmdoctor_checks.network import _refused

    simulate("Windows")
    p = net.Probe("http://127.0.0.1:1234/v1", "http", "127.0.0.1", 1234, address="127.0.0.1")
    finding = _refused(target(p.url, provider="lmstudio"), p, {}, True, True, net.Runtime())
    assert "excludedportrange" in finding.fix and "lms.exe bootstrap" in finding.fix


# --- 12. the suite itself skips rather than fails elsewhere -----------------------------------

# Calls that exist, or mean the same, only on some OSes; tests reach them through portable.py.
NOT_PORTABLE = {"geteuid", "mkfifo", "posix_spawn", "wait4", "symlink_to", "ru_maxrss"}
LINUX_ONLY_MODULES = {"netns.py", "test_netns.py", "portable.py", "test_platforms.py"}


def _calls(tree: ast.AST) -> list[tuple[str, int]]:
    return [
        (node.attr, node.lineno)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in NOT_PORTABLE
    ]


def test_tests_reach_os_specific_calls_only_through_guards():
    offenders = []
    for path in sorted(Path(__file__).parent.glob("*.py")):
        if path.name in LINUX_ONLY_MODULES:
            continue
        text = utf8(path)
        tree = ast.parse(text)
        for name, line in _calls(tree):
            guarded = "need(" in text or "need_linux(" in text or "is_root" in text
            if not guarded:
                offenders.append(f"{path.name}:{line} {name}")
        for node in ast.walk(tree):  # text files read without an encoding
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "read_text"
                and not node.keywords
            ):
                offenders.append(f"{path.name}:{node.lineno} read_text() without encoding")
    assert offenders == []


def test_extra_loopback_addresses_skip_where_they_do_not_bind(monkeypatch):
    import portable

    monkeypatch.setattr(portable, "extra_loopback_bindable", lambda *a: False)
    with pytest.raises(pytest.skip.Exception):
        portable.need_extra_loopback()


def test_fixtures_load_without_this_machine():
    """The seam: a simulated System reads nothing of this machine but memory and core counts."""
    snap = hardware.snapshot(False, System.simulate("Darwin"))
    assert snap["gpus"] == [] and snap["gpus_known"] is False and snap["os"]["release"] is None
    assert system.current().name in ("Linux", "Darwin", "Windows")
