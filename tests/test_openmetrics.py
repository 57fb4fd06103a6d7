"""`check --format openmetrics` (node_exporter's textfile collector) and the README's Prometheus
snippets, checked with the real engine's promtool."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

import fakes
from lmdoctor.cli import main
from lmdoctor.findings import Finding, Severity, error, info, ok, warn
from lmdoctor.render import RenderOptions
from lmdoctor.render.openmetrics import render
from lmdoctor.results import Report, TargetResult
from lmdoctor.target import Target
from loopback import Server, free_port
from portable import symlink
from prom import classic, openmetrics, promtool_check, tool, value, write_config

README = Path(__file__).parent.parent / "README.md"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def config(tmp_path: Path) -> tuple[Path, Server]:
    server = fakes.llamacpp(model="smol", n_ctx=2048)
    path = write_config(
        tmp_path / "config.json",
        {"smol": f"{server.url}/v1", "dead": f"http://127.0.0.1:{free_port()}/v1"},
    )
    return path, server


def test_check_prints_every_target_as_openmetrics(config: tuple[Path, Server]) -> None:
    path, server = config
    with server:
        rc, out, _ = run("check", "--config", str(path), "--all", "--format", "openmetrics")
    assert rc == 1  # the dead target fails the run, as in every format
    assert out.endswith("# EOF\n")
    promtool_check(out)
    for found in (openmetrics(out), classic(out)):  # both parsers: node_exporter reads classic
        assert value(found["lmdoctor_probe_success"], target="smol") == 1
        assert value(found["lmdoctor_probe_success"], target="dead") == 0
        assert value(found["lmdoctor_model_context_tokens"], target="smol") == 2048


def test_output_is_replaced_atomically(config: tuple[Path, Server], tmp_path: Path) -> None:
    path, server = config
    folder = tmp_path / "textfile"
    folder.mkdir()
    out = folder / "lmdoctor.prom"
    out.write_text("old\n", encoding="utf-8")
    out.chmod(0o644)
    before = out.stat().st_ino
    with server:
        rc, stdout, _ = run(
            "check", "--config", str(path), "--all", "--format", "openmetrics",
            "--output", str(out),
        )  # fmt: skip
    assert rc == 1 and "report written to" in stdout
    assert [p.name for p in folder.iterdir()] == ["lmdoctor.prom"]  # no temp file left
    assert out.stat().st_ino != before  # a new file renamed over the old one
    if os.name == "posix":  # Windows has ACLs, not mode bits
        assert stat.S_IMODE(out.stat().st_mode) == 0o644
    promtool_check(out.read_text(encoding="utf-8"))


def test_an_unwritable_output_is_one_line_and_exit_2(tmp_path: Path) -> None:
    target = tmp_path / "missing-folder" / "x.prom"
    rc, _, err = run("check", "http://127.0.0.1:1/v1", "--format", "openmetrics",
                     "--output", str(target), "--timeout", "0.2")  # fmt: skip
    assert rc == 2 and err.count("\n") == 1 and "cannot write" in err


def _target(name: str, entry: str = "model_list[0]") -> Target:
    return Target(name=name, api_base="http://10.0.0.1:1234/v1", model_id="m", entry=entry)


def test_model_facts_bench_and_repeated_names() -> None:
    findings: list[Finding] = [
        ok("net.ok", "reachable", resolve_ms=1.5, connect_ms=0.5, tls_ms=3.0, first_byte_ms=9),
        info("server.identified", "LM Studio", kind="lmstudio", version="0.3.30"),
        ok("model.ok", "served", listed_as="m", loaded=None, context_tokens=None),
        warn("model.not_loaded", "not loaded", model_id="m"),
        warn("model.context_too_small", "small", loaded_context=4096),
        info("bench.result", "measured", ttft_s=0.25, decode_tps=42.5),
        info("capacity.estimate", "estimated", decode_tps=50.0),
        warn("model.not_loaded", "twice: one series", model_id="m"),
    ]
    findings = [Finding(**{**f.__dict__, "check": f.code.split(".")[0]}) for f in findings]
    findings[0] = Finding(**{**findings[0].__dict__, "check": "network"})
    failing = [error("net.refused", "refused: 10.0.0.1:1234 sk-lm-abcdefabcdef0123456789")]
    report = Report(
        [
            TargetResult(_target("lm"), findings, 1.25),
            TargetResult(_target("twin", "model_list[1]"), failing, 0.1),
            TargetResult(_target("twin", "model_list[2]"), [], 0.1),
        ]
    )
    text = render(report, RenderOptions())
    promtool_check(text)
    found = openmetrics(text)
    assert value(found["lmdoctor_model_served"], target="lm") == 1
    assert value(found["lmdoctor_model_loaded"], target="lm") == 0
    assert value(found["lmdoctor_model_context_tokens"], target="lm") == 4096
    assert value(found["lmdoctor_bench_first_token_seconds"], target="lm") == 0.25
    assert value(found["lmdoctor_bench_tokens_per_second"], target="lm") == 42.5
    assert value(found["lmdoctor_estimate_tokens_per_second"], target="lm") == 50.0
    assert value(found["lmdoctor_probe_phase_duration_seconds"], phase="first_byte") == 0.009
    assert value(found["lmdoctor_server_info"], kind="lmstudio", version="0.3.30") == 1
    assert value(found["lmdoctor_findings"], target="lm", severity="warn") == 3
    assert value(found["lmdoctor_probe_success"], target="twin model_list[1]") == 0
    assert value(found["lmdoctor_probe_success"], target="twin model_list[2]") == 1
    assert "10.0.0.1" not in text and "sk-lm" not in text and "refused:" not in text


# ------------------------------------------------------------------------ README's snippets


def _yaml_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_the_readme_scrape_config_and_alert_rules_pass_promtool(tmp_path: Path) -> None:
    blocks = _yaml_blocks()
    scrape = [b for b in blocks if "scrape_configs:" in b and "lmdoctor" in b]
    rules = [b for b in blocks if "groups:" in b and "lmdoctor_" in b]
    assert scrape and rules, "README: the scrape config and alert rules are missing"
    (tmp_path / "lmdoctor.rules.yml").write_text(rules[0], encoding="utf-8")
    (tmp_path / "prometheus.yml").write_text(
        scrape[0] + "rule_files:\n  - lmdoctor.rules.yml\n", encoding="utf-8"
    )
    promtool = tool("promtool")
    for args in (["check", "rules", "lmdoctor.rules.yml"], ["check", "config", "prometheus.yml"]):
        done = subprocess.run(
            [promtool, *args], cwd=tmp_path, capture_output=True, text=True, timeout=30
        )
        assert done.returncode == 0, f"promtool {' '.join(args)}:\n{done.stdout}{done.stderr}"
    assert "lmdoctor_probe_success" in rules[0] and "lmdoctor_model_loaded" in rules[0]


def test_the_readme_systemd_unit_runs_serve() -> None:
    text = README.read_text(encoding="utf-8")
    unit = re.search(r"```ini\n(\[Unit\].*?)```", text, re.S)
    assert unit, "README: the systemd unit is missing"
    assert re.search(r"ExecStart=\S*lmdoctor serve ", unit.group(1))
    assert "ExecReload=/bin/kill -HUP $MAINPID" in unit.group(1)


def test_severities_in_findings_cover_every_level() -> None:
    text = render(Report([TargetResult(_target("x"), [], 0.0)]), RenderOptions())
    found = openmetrics(text)
    levels = {s.labels["severity"] for s in found["lmdoctor_findings"]}
    assert levels == {s.label for s in Severity}


def test_atomic_write_keeps_a_symlink_and_writes_through_to_devices(tmp_path: Path) -> None:
    from lmdoctor.outfile import write_atomic

    real = tmp_path / "real.prom"
    real.write_text("old\n", encoding="utf-8")
    link = tmp_path / "link.prom"
    symlink(link, real)
    write_atomic(str(link), "new\n")
    assert link.is_symlink() and real.read_text(encoding="utf-8") == "new\n"
    write_atomic(os.devnull, "discarded\n")  # not a regular file: written, not replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.prom", "real.prom"]
