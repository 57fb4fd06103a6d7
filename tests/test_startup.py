"""Issue 13, item 10: what a whole `lmdoctor check URL --model ID` process loads for a healthy
plain-http endpoint. Wall time is measured by benchmarks/startup_check.py against a real
llama.cpp server (target <= 0.45 s); here, the causes it removed stay removed: no CA bundle
for plain http, no pynvml without an NVIDIA driver, no trio / httpx CLI / HTTP/2 / tabulate, no
PicoClaw config reader for a URL, entry points found as importlib.metadata finds them, a
bounded number of regex compilations. No timed tests: the machine's load decides those."""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest
from startup_probe import probe

import fakes
from lmdoctor import hardware
from lmdoctor.registry import ENTRY_POINT_GROUP, _entry_points


def _probe(*args: str) -> dict:
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("LMDOCTOR_API_KEY", None)
    return probe(*args, env=env)


@pytest.fixture(scope="module")
def healthy_run() -> dict:
    with fakes.llama_cpp_python() as server:
        return _probe("check", f"{server.url}/v1", "--model", "smollm2", "--timeout", "5")


def test_the_run_is_healthy(healthy_run: dict) -> None:
    assert healthy_run["exit"] == 0


def test_plain_http_loads_no_ca_bundle(healthy_run: dict) -> None:
    assert healthy_run["ca_loads"] == 0


@pytest.mark.skipif(
    hardware.nvidia_driver_present(platform.system()),
    reason="an NVIDIA driver here (or not Linux, where only NVML can tell): NVML is used",
)
def test_no_pynvml_without_an_nvidia_driver(healthy_run: dict) -> None:
    assert "pynvml" not in healthy_run["modules"]


def test_unused_extras_stay_unimported(healthy_run: dict) -> None:
    loaded = set(healthy_run["modules"])
    assert not {"trio", "httpx._main", "rich", "pygments", "tabulate", "h2", "hpack"} & loaded


# What a healthy check of one plain-http URL never needs: the PicoClaw config reader (the URL
# is the target), PicoClaw's provider table (only a fix that rewrites a config's `model`),
# did-you-mean (only a name that matches nothing), the OS trust store (https only), YAML
# (.security.yml), the exporter.
NOT_FOR_A_URL_CHECK = {
    "lmdoctor.config.picoclaw",
    "lmdoctor.config.replay",
    "lmdoctor.config.problems",
    "lmdoctor.config.providers",
    "difflib",
    "truststore",
    "yaml",
    "prometheus_client",
    "lmdoctor.exporter",
}


def test_a_url_check_loads_no_config_reader(healthy_run: dict) -> None:
    assert not NOT_FOR_A_URL_CHECK & set(healthy_run["modules"])
    assert "lmdoctor.config.adhoc" in healthy_run["modules"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc readers: Linux only")
def test_a_healthy_linux_check_needs_no_psutil(healthy_run: dict) -> None:
    """Memory, cores and the server's command line come from /proc (lmdoctor/procfs.py): no
    psutil import (~40 named tuples) and no walk over every socket of every process."""
    assert "psutil" not in healthy_run["modules"]
    assert "lmdoctor.procfs" in healthy_run["modules"]


def test_a_url_check_measures_no_ram_bandwidth_machinery(healthy_run: dict) -> None:
    if sys.platform.startswith("linux") and importlib.util.find_spec("amdsmi") is None:
        assert "ctypes" not in healthy_run["modules"]  # psutil and the rest do not need it


def test_help_loads_neither_http_nor_checks() -> None:
    code = (
        "import json, sys\nfrom lmdoctor.cli import main\ntry:\n    main()\n"
        "except SystemExit:\n    pass\nprint(json.dumps(sorted(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "--help"], capture_output=True, text=True, timeout=60
    )
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert (
        not {
            "httpx",
            "httpcore",
            "asyncio",
            "importlib.metadata",
            "lmdoctor_checks.auth",
            "lmdoctor.servers",
            "lmdoctor.estimate",
            "psutil",
        }
        & loaded
    )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counted under Linux")
def test_regex_compilations_are_bounded(healthy_run: dict) -> None:
    # ~230 before (issue 13), 119 now; httpx, h11, http.cookiejar and the stdlib own most.
    # redact's patterns compile only for text that holds one of their hints.
    assert healthy_run["regex"] <= 128, healthy_run["regex"]


# What stays a dataclass on this path: mutable state (Session, Ctx, Probe, Attempt, Reply,
# Estimate, Response, Measured, the results) and the plug-in API (Check, Finding, Target,
# ServerInfo). Values nobody mutates are NamedTuples: a frozen dataclass costs ~3.5 M
# instructions to define (its methods are generated with exec), a NamedTuple ~0.8 M.
def test_a_url_check_defines_few_dataclasses(healthy_run: dict) -> None:
    assert len(healthy_run["dataclasses"]) <= 15, healthy_run["dataclasses"]


def test_https_still_verifies_with_the_ca_bundle() -> None:
    """The CA bundle is loaded on the first https request, not never."""
    import asyncio

    from lmdoctor.http import HttpClient
    from lmdoctor.settings import Settings

    async def go() -> None:
        client = HttpClient(Settings(connect_timeout=0.5, read_timeout=0.5))
        try:
            transport = client.tls_transport
            assert transport is not None and not transport.built  # nothing for plain http
            assert transport.options["verify"] is None  # the trust store, built on first use
            with pytest.raises(Exception):  # noqa: B017 (a refused port: any error will do)
                await client.request("GET", "https://127.0.0.1:9/")
            assert transport.built
            context = transport.options["verify"]
            assert context.verify_mode.name == "CERT_REQUIRED" and context.check_hostname
        finally:
            await client.aclose()

    asyncio.run(go())


def _found(eps: list) -> list[tuple[str, str, str]]:
    return [(ep.name, ep.value, str(ep.dist._path)) for ep in eps]


def test_entry_points_are_found_as_importlib_finds_them() -> None:
    from importlib.metadata import entry_points

    expected = _found(entry_points(group=ENTRY_POINT_GROUP))
    assert _found(_entry_points()) == expected
    assert {ep.dist.name for ep in _entry_points()} == {"lmdoctor-cli"}


def _dist(folder: Path, name: str, entry_points: str | None) -> None:
    info = folder / name
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name.split('-')[0]}\n")
    if entry_points is not None:
        (info / "entry_points.txt").write_text(entry_points)


def test_the_folder_scan_finds_what_importlib_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plug-ins in folders of their own, shadowed names, a name spelt two ways, an egg-info
    file: the direct scan (no Distribution per package) agrees with importlib.metadata."""
    from importlib.metadata import entry_points

    group = f"[{ENTRY_POINT_GROUP}]\n"
    first, second = tmp_path / "first", tmp_path / "second"
    _dist(first, "shadow_plugin-1.0.dist-info", "[console_scripts]\nx = y:z\n")
    _dist(second, "Shadow.Plugin-2.0.dist-info", group + "shadowed = nowhere:CHECK\n")
    _dist(second, "extra_plugin-0.1.dist-info", group + "extra = extra_checks:CHECK\n")
    _dist(second, "old_plugin-0.1.egg-info", group + "old = old_checks:CHECK\n")
    (second / "broken-1.0.egg-info").write_text("Name: broken\n")  # a file, not a folder
    monkeypatch.syspath_prepend(str(second))
    monkeypatch.syspath_prepend(str(first))
    found = _found(_entry_points())
    assert found == _found(entry_points(group=ENTRY_POINT_GROUP))
    names = [name for name, _, _ in found]
    assert "extra" in names and "old" in names and "shadowed" not in names


def test_a_zip_on_sys_path_is_left_to_importlib(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import zipfile
    from importlib.metadata import entry_points

    from lmdoctor.registry import _plain_folders

    archive = tmp_path / "plugins.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("zipped_plugin-1.0.dist-info/METADATA", "Name: zipped-plugin\n")
        zf.writestr(
            "zipped_plugin-1.0.dist-info/entry_points.txt",
            f"[{ENTRY_POINT_GROUP}]\nzipped = zipped_checks:CHECK\n",
        )
    monkeypatch.syspath_prepend(str(archive))
    assert _plain_folders() is None
    found = _found(_entry_points())
    assert found == _found(entry_points(group=ENTRY_POINT_GROUP))
    assert "zipped" in [name for name, _, _ in found]


def test_the_benchmark_exists_and_names_the_target() -> None:
    text = (Path(__file__).parent.parent / "benchmarks" / "startup_check.py").read_text(
        encoding="utf-8"
    )
    assert "TARGET_S = 0.45" in text and "LlamaServer" not in text  # uses endpoint_speed's


def test_the_command_skips_only_the_teardown() -> None:
    """entry() ends the process with os._exit once main() is done (the teardown of ~400 modules
    costs ~6 % of a check): exit handlers still run, buffered output is all written, the exit
    status is main()'s."""
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('exit handler ran'))\n"
        "from lmdoctor.cli import entry\n"
        "sys.argv = ['lmdoctor', *sys.argv[1:]]\n"
        "print('x' * 200000, end='')  # more than a pipe holds: must be flushed\n"
        "entry()\n"
    )
    for args, status in ((["--version"], 0), (["check", "--only", "nosuchcheck"], 2)):
        done = subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == status, done.stderr
        assert done.stdout.startswith("x" * 200000)
        assert done.stdout.rstrip().endswith("exit handler ran")


def test_only_serve_keeps_the_garbage_collector() -> None:
    code = (
        "import gc, sys\n"
        "import lmdoctor.cli as cli\n"
        "sys.argv = ['lmdoctor', *sys.argv[1:]]\n"
        "cli.main = lambda: print('collector on:', gc.isenabled())\n"
        "cli.entry()\n"
    )
    for args, enabled in ((["serve"], True), (["check", "http://127.0.0.1:9"], False), ([], False)):
        done = subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"collector on: {enabled}"
