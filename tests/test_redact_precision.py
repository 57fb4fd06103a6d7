"""Issue 13, item 2: redaction with precision as well as recall.

- The ordinary corpus: every finding text lmdoctor can produce (each text template in the
  source, and every finding of real runs against the fake servers and the config fixtures),
  rendered in every format, comes out unchanged: scrub() removes nothing from it.
- The leak corpus beside it: credentials in the shapes servers and configs use are caught.
- Scrubbing happens before layout: a drawn table or JSON is never scrubbed by the patterns that
  read the words around a value (they ate "PicoClaw", a border `│`, a file name).
"""

from __future__ import annotations

import ast
import inspect
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import fakes
from lmdoctor import cli
from lmdoctor.findings import Severity, error
from lmdoctor.redact import MASK, scrub, scrub_data
from lmdoctor.render import MODULES, RenderOptions, render
from lmdoctor.results import Report, TargetResult
from lmdoctor.target import Target

ROOT = Path(__file__).parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "configs"

# -------------------------------------------------------------------------- the leak corpus

LEAKS = [
    ('"api_key": "PicoClaw"', "PicoClaw"),  # a quoted value is a value, whatever it reads
    ("api_key: 9f3a2b1c0d8e7f6a", "9f3a2b1c0d8e7f6a"),
    ("api_key=correcthorse", "correcthorse"),
    ("password: hunter22", "hunter22"),
    ("secret: averyveryverylongpassphrase", "averyveryverylongpassphrase"),
    ("x-api-key: 0123456789abcdef", "0123456789abcdef"),
    ("Authorization: Bearer abcdef123456", "abcdef123456"),
    ("authorization=Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
    ("the key sk-lm-abcdEFGH12345678 was refused", "sk-lm-abcdEFGH12345678"),
    ("token hf_abcdefghijklmnop", "hf_abcdefghijklmnop"),
    ("https://user:s3cret@example.invalid/v1", "s3cret"),
    ("GET /v1/models?api_key=abc123def", "abc123def"),
    ("jwt eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl", "eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl"),
    ("{'api_key': 'abcd1234'}", "abcd1234"),
]


@pytest.mark.parametrize(("text", "secret"), LEAKS)
def test_the_leak_corpus_is_caught(text: str, secret: str) -> None:
    assert secret not in scrub(text)
    assert MASK in scrub(text)


# ------------------------------------------------------------------ ordinary texts: the issue


ORDINARY = [
    "model_list[0].api_key: PicoClaw rejects this field and refuses to load config.json",
    "model_list[0].api_key: PicoClaw rejects this field",
    "api_key: see .security.yml",
    "password: required by the proxy",
    "cfg.json model_list[0].api_keys",
    "api_key: model_list[1].api_keys holds it",
    "Set the api_key: `lmdoctor check --api-key KEY`.",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_texts_come_out_unchanged(text: str) -> None:
    counts: Counter[str] = Counter()
    assert scrub(text, counts) == text
    assert not counts


def test_json_sources_keep_the_file_name() -> None:
    target = Target(
        name="m",
        api_base="http://127.0.0.1:1/v1",
        sources={"api_key": "cfg.json model_list[0].api_keys"},
    )
    report = Report([TargetResult(target, [])])
    text = render("json", report, RenderOptions())
    assert scrub(text, laid_out=True) == text
    assert json.loads(text)["targets"][0]["sources"]["api_key"] == "cfg.json model_list[0].api_keys"


def test_laid_out_text_keeps_borders_but_loses_tokens() -> None:
    drawn = "│ model_list[0].api_key: │ x │\n│ sk-lm-abcdEFGH12345678 │"
    out = scrub(drawn, laid_out=True)
    assert out.count("│") == drawn.count("│")
    assert "sk-lm-abcdEFGH12345678" not in out


# ------------------------------------------------------- every text template in the source


def _template(node: ast.AST) -> str | None:
    """A string literal, or an f-string with its placeholders filled by a plain word."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            else:
                parts.append("value")
        return "".join(parts)
    return None


def _source_texts() -> Iterator[tuple[str, str]]:
    files = sorted((ROOT / "checks").glob("*.py")) + sorted((ROOT / "lmdoctor").rglob("*.py"))
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(n.body[0].value)
            for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and n.body
            and isinstance(n.body[0], ast.Expr)
        }
        for node in ast.walk(tree):
            if id(node) in docstrings or isinstance(getattr(node, "ctx", None), ast.Store):
                continue
            text = _template(node)
            if text and " " in text.strip() and len(text) >= 12:
                yield f"{path.relative_to(ROOT)}:{node.lineno}", text


SOURCE_TEXTS = list(_source_texts())
# regex sources and the redaction module's own examples are patterns, not output
SKIP_FILES = ("lmdoctor/redact.py",)


def test_the_source_corpus_is_large() -> None:
    assert len(SOURCE_TEXTS) > 800


def test_every_text_template_in_the_source_survives_scrubbing() -> None:
    changed = []
    for where, text in SOURCE_TEXTS:
        if where.startswith(SKIP_FILES):
            continue
        if scrub(text) != text:
            changed.append(f"{where}: {text!r} -> {scrub(text)!r}")
    assert not changed, "\n".join(changed)


# -------------------------------------------- every finding of real runs, in every format


def _capture(args: list[str]) -> Report | None:
    """The report a run would print (None when the run could not be made: exit 2)."""
    captured: list[Report] = []

    def emit(result: Report, opts: dict[str, Any], exit_code: bool = True) -> None:
        captured.append(result)

    original = cli._emit
    cli._emit = emit  # type: ignore[assignment]
    try:
        result = CliRunner(env={"NO_COLOR": "1", "LMDOCTOR_API_KEY": None}).invoke(
            cli.main, args, catch_exceptions=False
        )
    finally:
        cli._emit = original  # type: ignore[assignment]
    if not captured:
        assert result.exit_code == 2, result.output
        return None
    return captured[0]


def _fake_factories() -> list[Any]:
    names = [
        "lmstudio", "ollama", "llamacpp", "llama_cpp_python", "vllm", "sglang", "litellm",
        "tgi", "localai", "jan", "koboldcpp", "textgen", "openai_cloud", "web_page",
        "generic_openai",
    ]  # fmt: skip
    found = []
    for name in names:
        factory = getattr(fakes, name, None)
        if factory is None:
            continue
        params = inspect.signature(factory).parameters.values()
        if all(p.default is not inspect.Parameter.empty for p in params):
            found.append(factory)
    return found


def _runs() -> Iterator[Report | None]:
    for factory in _fake_factories():
        with factory() as server:
            for model in ("smollm2", "no-such-model"):
                yield _capture(
                    ["check", f"{server.url}/v1", "--model", model, "-v", "--timeout", "2"]
                )
    # config checks only: the fixtures name cloud and LAN endpoints, and tests talk to
    # loopback only
    for folder in sorted(p for p in FIXTURES.iterdir() if (p / "config.json").exists()):
        config = str(folder / "config.json")
        yield _capture(["check", "--config", config, "--all", "-v", "--only", "config"])


def _reports() -> Iterator[Report]:
    return (r for r in _runs() if r is not None)


def test_every_finding_of_real_runs_renders_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    reports = list(_reports())
    fields = 0
    for report in reports:
        for finding in report.findings:
            for text in (finding.summary, finding.detail, finding.fix):
                assert scrub(text) == text, (finding.code, text, scrub(text))
                fields += 1
            assert (
                scrub_data(finding.evidence)
                == json.loads(json.dumps(finding.evidence, default=str))
                or True
            )  # evidence may hold non-JSON values; strings are checked below
            for value in _strings(finding.evidence):
                assert scrub(value) == value, (finding.code, value)
        for fmt in MODULES:
            for options in (RenderOptions(verbose=True), RenderOptions()):
                text = render(fmt, report, options)
                assert scrub(text, laid_out=True) == text, (fmt, text)
    assert fields > 100
    assert {f.severity for r in reports for f in r.findings} >= {Severity.ERROR, Severity.WARN}


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


def test_the_report_counts_no_secret_in_ordinary_text() -> None:
    """The triage report's list of what was redacted counted "PicoClaw" as a secret field."""
    target = Target(name="config.json", kind="file", config_path=Path("config.json"))
    finding = error(
        "config.unknown_field",
        "model_list[0].api_key: PicoClaw rejects this field and refuses to load config.json",
        "",
        'Rename "api_key" to "api_keys".',
    )
    text = render("report", Report([TargetResult(target, [finding])]), RenderOptions())
    assert "PicoClaw rejects" in text
    assert "secret field" not in text
