"""Command line: parse → build the run → run → render → exit code. Nothing else lives here.

Heavy modules (httpx, psutil, the checks) are imported inside the commands so that
`lmdoctor --help` and `--version` stay instant.
"""

from __future__ import annotations

import enum
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from lmdoctor import __version__

if TYPE_CHECKING:
    from lmdoctor.results import Report
    from lmdoctor.target import Target

FORMATS = ("table", "json", "markdown", "junit", "github", "openmetrics")


class ExitStatus(enum.IntEnum):
    OK = 0
    FINDINGS = 1  # at least one finding at or above --fail-on
    USAGE = 2  # the run could not be made: bad flags, unreadable or invalid config
    INTERRUPTED = 130  # Ctrl-C: the shell convention (128 + SIGINT), not "problems found"


# What a console that cannot show our symbols gets instead (Windows' cp1252 when the output is
# redirected or piped: `> out.txt`, `| clip`, Git Bash, CI runners). Anything else becomes "?".
ASCII_FALLBACKS = {
    "→": "->", "←": "<-", "…": "...", "—": "--", "–": "-", "≈": "~", "×": "x", "≥": ">=",
    "≤": "<=", "±": "+/-", "“": '"', "”": '"', "‘": "'", "’": "'", "·": ".", "•": "*",
    "✓": "ok", "✅": "ok", "✗": "x", "❌": "x", "⚠": "!", "ℹ": "i", "⏭": ">>", "\ufe0f": "",
    "─": "-", "│": "|", "┌": "+", "┐": "+", "└": "+", "┘": "+", "├": "+", "┤": "+", "┼": "+",
    "═": "=", "║": "|", "η": "eta", "²": "^2", "§": "S",
}  # fmt: skip
_ERRORS = "lmdoctor-ascii"


def _ascii_fallback(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    text = exc.object[exc.start : exc.end]
    return "".join(ASCII_FALLBACKS.get(c, "?") for c in text), exc.end


def _safe_output() -> None:
    """The one place output is made safe for the console's encoding: a stream that cannot
    encode every character (cp1252, ascii) writes our fallbacks instead of raising
    UnicodeEncodeError (a traceback, nothing printed, and exit 1: "problems found")."""
    import codecs
    import io

    codecs.register_error(_ERRORS, _ascii_fallback)
    for stream in (sys.stdout, sys.stderr):
        if not isinstance(stream, io.TextIOWrapper):
            continue  # None (pythonw), or a stream someone else made
        try:
            if not codecs.lookup(stream.encoding).name.startswith("utf"):
                stream.reconfigure(errors=_ERRORS)
        except (LookupError, ValueError, OSError):
            continue


class _DefaultToCheck(click.Group):
    """`lmdoctor [opts]` and `lmdoctor URL` mean `lmdoctor check ...`; a word that is neither
    a command nor a URL is a mistyped command (`lmdoctor hardwre`), not a URL."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        top_level = {"--help", "-h", "--version"}
        if args and args[0] not in self.commands and args[0] not in top_level:
            word = args[0]
            if not word.startswith("-") and "://" not in word:
                fail(_unknown_command(word, sorted(self.commands)))
        if not args or (args[0] not in self.commands and args[0] not in top_level):
            args = ["check", *args]
        return super().parse_args(ctx, args)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Usage errors as one line (click prints a usage block), Ctrl-C as exit 130."""
        _safe_output()  # before anything, --help included, is written
        kwargs.pop("standalone_mode", None)  # CliRunner passes it; we always handle errors
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[call-overload]
        except click.UsageError as exc:
            hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
            fail(f"{_one_line(exc.format_message())}{hint}")
        except click.ClickException as exc:  # bad file arguments and the like
            fail(_one_line(exc.format_message()))
        except (click.Abort, KeyboardInterrupt):
            click.echo("\nlmdoctor: interrupted", err=True)
            sys.exit(ExitStatus.INTERRUPTED)
        sys.exit(code if isinstance(code, int) else ExitStatus.OK)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _unknown_command(word: str, commands: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word.lower(), commands, n=1, cutoff=0.6)
    if close:
        return f"no command {word!r}; did you mean `lmdoctor {close[0]}`?"
    # not a command, and a URL to check starts with a scheme: say both, briefly
    return f"{word!r} is no command (lmdoctor --help) nor a URL (http://host:port/v1)"


def fail(message: str) -> NoReturn:
    """One clear line on stderr and exit 2, never a traceback."""
    from lmdoctor.redact import scrub

    click.echo(f"lmdoctor: error: {scrub(message)}", err=True)
    sys.exit(ExitStatus.USAGE)


def _target_options(f: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.argument("url", required=False),
        click.option(
            "--config",
            "config_path",
            metavar="PATH",
            help="PicoClaw config.json "
            "(default: $PICOCLAW_CONFIG, $PICOCLAW_HOME/config.json, "
            "~/.picoclaw/config.json).",
        ),
        click.option(
            "--model",
            "models",
            multiple=True,
            metavar="NAME",
            help="A model_list entry to check (repeatable); with URL, the model id.",
        ),
        click.option("--all", "every", is_flag=True, help="Check every model_list entry."),
        click.option(
            "--api-key",
            metavar="KEY",
            help="Key for an ad-hoc URL (prefer "
            "$LMDOCTOR_API_KEY: flags show up in shell history).",
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0.05, max=600),
            metavar="SECONDS",
            help="Per-phase timeout (resolve, connect, TLS, first byte). "
            "Default: connect 3 s, read 3.5 s.",
        ),
        click.option(
            "-v",
            "--verbose",
            is_flag=True,
            help="Show every finding, ok and skipped included, and tracebacks of crashed checks.",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


@click.group(cls=_DefaultToCheck, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="lmdoctor")
def main() -> None:
    """Find why an assistant cannot talk to its LLM endpoint, and say what to change.

    With no command, runs `check` on the models your PicoClaw agents use:

    \b
      lmdoctor [check] [URL] [--config PATH] [--model NAME]... [--all]
               [--format FORMAT] [--output FILE] [--timeout S]
               [--only CHECK]... [--skip CHECK]... [--fail-on error|warn]
               [--bench] [-q] [-v]
    Every option of the default command: lmdoctor check --help
    """
    sys.excepthook = _scrubbed_excepthook


def _scrubbed_excepthook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
    """A bug's traceback still reaches stderr, scrubbed like every other output."""
    import traceback

    from lmdoctor.redact import scrub

    sys.stderr.write(scrub("".join(traceback.format_exception(kind, value, tb))))


def entry() -> NoReturn:
    """The `lmdoctor` command (and `python -m lmdoctor`): main(), then the exit handlers, then
    the end of the process without the interpreter's teardown. Freeing the ~400 modules of a
    check one by one costs ~6 % of its whole run (callgrind) and serves nothing: the output is
    flushed here and the commands closed their files. With another thread still running, or
    output that cannot be flushed, the interpreter exits as usual.

    The cyclic garbage collector is off for the short commands: importing ~400 modules set it
    off dozens of times, ~3 % of a check, to free next to nothing (refcounting frees the rest;
    the process ends in a second). `serve` runs for days and keeps it."""
    if sys.argv[1:2] != ["serve"]:
        import gc

        gc.disable()
    try:
        main()
        code: Any = ExitStatus.OK
    except SystemExit as exc:
        code = exc.code
    threading = sys.modules.get("threading")
    if not isinstance(code, int) or (threading is not None and threading.active_count() > 1):
        sys.exit(code)
    import atexit

    try:
        atexit._run_exitfuncs()  # what Python runs at exit (logging.shutdown, ...)
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except Exception:
        sys.exit(code)  # e.g. a closed pipe: reported as Python always does
    os._exit(code)


@main.command()
@_target_options
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    metavar="FILE",
    help="Write the report there; stdout then shows the one-line summary.",
)
@click.option(
    "--only",
    multiple=True,
    metavar="CHECK",
    help="Run only these checks (ids or finding codes, globs allowed).",
)
@click.option(
    "--skip", multiple=True, metavar="CHECK", help="Skip these checks, or hide these finding codes."
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warn"]),
    default="error",
    show_default=True,
    help="Lowest severity that makes the exit code 1.",
)
@click.option("--bench", is_flag=True, help="Also run a real short completion and measure it.")
@click.option(
    "--wait",
    type=click.FloatRange(min=0, max=3600),
    metavar="SECONDS",
    help="First wait up to SECONDS until every server answers and has loaded its model "
    "(for CI: start the server, then `lmdoctor check --wait 120`).",
)
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="Print nothing on success; only the summary and problems otherwise.",
)
def check(**opts: Any) -> None:
    """Diagnose the configured endpoints (or URL) and print the remediation table."""
    report = _run(opts)
    _emit(report, opts)


@main.command()
@_target_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["markdown", "json"]),
    default="markdown",
    show_default=True,
)
@click.option("--output", type=click.Path(dir_okay=False, writable=True), metavar="FILE")
@click.option(
    "--mask-hosts",
    is_flag=True,
    help="Replace host names and addresses with host-1, host-2, ... consistently.",
)
def report(**opts: Any) -> None:
    """A triage report to paste into a support issue, secrets redacted."""
    opts.update(only=(), skip=(), fail_on="error", bench=False, quiet=False, wait=None)
    result = _run(opts)
    _report_facts(result, opts["timeout"])
    opts["fmt"] = "report-json" if opts["fmt"] == "json" else "report"
    _emit(result, opts, exit_code=False)


PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


def _report_facts(result: Report, timeout: float | None) -> None:
    """What `lmdoctor report` adds: versions, platform, proxy variables (scheme://host:port
    only), hardware and the servers on this machine when those modules are installed."""
    import platform

    from lmdoctor.redact import proxy_display, scrub

    result.meta["environment"] = {
        "lmdoctor": __version__,
        "os": platform.platform(),
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        "machine": platform.machine(),
    }
    proxies = {}
    for name in sorted(n for n in os.environ if n.lower() in PROXY_VARIABLES):
        value = os.environ[name]
        if name.lower() == "no_proxy":  # a list of hosts, not a URL
            proxies[name] = {"value": scrub(value), "credentials": False}
        else:
            shown, had_credentials = proxy_display(value)
            proxies[name] = {"value": shown, "credentials": had_credentials}
    result.meta["proxy_environment"] = proxies
    if result.hardware is None:
        result.hardware = _optional("hardware", lambda m: _plain(m.snapshot()))
    result.meta["servers"] = _optional(
        "discovery", lambda m: [_plain(s) for s in m.run_scan(timeout)]
    )


def _optional(module: str, use: Callable[[Any], Any]) -> Any:
    """A fact from an optional module; None when it is absent or fails (with a warning)."""
    import importlib

    from lmdoctor.redact import scrub

    try:
        return use(importlib.import_module(f"lmdoctor.{module}"))
    except (ImportError, AttributeError):
        return None
    except Exception as exc:  # a sensor failing must not cost the whole report
        reason = scrub(f"{type(exc).__name__}: {exc}")
        click.echo(f"lmdoctor: warning: {module}: {reason}", err=True)
        return None


def _plain(value: Any) -> Any:
    """Plain data from a snapshot or scan result (dict, as_dict(), or a dataclass)."""
    import dataclasses

    if isinstance(value, dict):
        return value
    if hasattr(value, "as_dict"):
        return value.as_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return {"value": str(value)}


@main.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.option("--timeout", type=click.FloatRange(min=0.05, max=600), metavar="SECONDS")
def scan(fmt: str, timeout: float | None) -> None:
    """Find LLM servers on this machine (listening sockets and well-known ports)."""
    from lmdoctor import discovery
    from lmdoctor.render import scan as render_scan

    text = render_scan.render(discovery.run_scan(timeout), fmt)
    _write(text, None)


@main.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
def hardware(fmt: str) -> None:
    """The sampled hardware (CPU, RAM, GPUs), and what it can run."""
    from lmdoctor import estimate
    from lmdoctor import hardware as hw
    from lmdoctor.render import hardware as render_hardware

    snap = hw.snapshot()
    _write(render_hardware.render(snap, estimate.capabilities(snap), fmt), None)


@main.command()
@click.argument("model")
@click.option("--gpu", metavar="NAME", help="Estimate for this GPU (from the bandwidth table).")
@click.option(
    "--bandwidth",
    type=click.FloatRange(min=1),
    metavar="GBPS",
    help="Memory bandwidth to assume, GB/s.",
)
@click.option("--backend", type=click.Choice(["cuda", "metal", "rocm", "vulkan", "sycl", "cpu"]))
@click.option("--memory", type=click.FloatRange(min=0.1), metavar="GIB", help="System RAM.")
@click.option("--vram", type=click.FloatRange(min=0), metavar="GIB", help="GPU memory.")
@click.option("--context", type=click.IntRange(min=1), metavar="N", help="Context tokens.")
@click.option("--prompt-tokens", type=click.IntRange(min=1), metavar="N")
@click.option(
    "--params",
    type=click.FloatRange(min=0.001),
    metavar="B",
    help="Parameters, in billions (overrides the name).",
)
@click.option("--quant", metavar="Q", help="Quantization, e.g. Q4_K_M (overrides the name).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
def estimate(model: str, fmt: str, **opts: Any) -> None:
    """Will MODEL fit, and how fast will it answer? (LM Studio, Ollama, HF or GGUF names.)"""
    from lmdoctor import estimate as est
    from lmdoctor.render import estimate as render_estimate

    try:
        result = est.from_cli(model, **opts)
    except est.EstimateError as exc:
        fail(str(exc))
    _write(render_estimate.render(result, fmt), None)


@main.command()
@click.option(
    "--config", "config_path", metavar="PATH", help="PicoClaw config.json (lookup as for check)."
)
@click.option(
    "--listen",
    default="127.0.0.1:9877",
    show_default=True,
    metavar="HOST:PORT",
    help="Address to serve on ([::1]:9877 for IPv6; port 0 picks a free one).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.05, max=600),
    metavar="SECONDS",
    help="Per-phase timeout; a probe's deadline (scrape timeout - 0.5 s) caps it at a third.",
)
@click.option("--allow-url", is_flag=True, help="Also probe ad-hoc URLs: /probe?target=http://…")
@click.option("--allow-bench", is_flag=True, help="Allow /probe?module=bench (a real completion).")
@click.option(
    "--watch-interval",
    type=click.FloatRange(min=0, max=3600),
    default=1.0,
    show_default=True,
    metavar="SECONDS",
    help="How often to look for a changed config file (0: only on SIGHUP).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log every request on stderr.")
def serve(**opts: Any) -> None:
    """Prometheus exporter: /probe?target=NAME runs the checks, /metrics, / lists targets."""
    from lmdoctor.config import ConfigError, locate
    from lmdoctor.exporter import ServeOptions, parse_listen, run_server
    from lmdoctor.redact import scrub
    from lmdoctor.registry import RegistryError, load_checks

    try:
        host, port = parse_listen(opts["listen"])
    except ValueError as exc:
        fail(f"--listen {opts['listen']!r}: {exc}")
    path, looked = locate(opts["config_path"])
    if path is None:
        fail(
            "no PicoClaw config found (looked at " + ", ".join(map(str, looked)) + "); "
            "give one with --config PATH"
        )
    try:
        installed, problems = load_checks()
    except RegistryError as exc:
        fail(str(exc))
    for problem in problems:
        click.echo(f"lmdoctor: warning: {scrub(problem)}", err=True)
    options = ServeOptions(
        config=path,
        host=host,
        port=port,
        timeout=opts["timeout"],
        allow_url=opts["allow_url"],
        allow_bench=opts["allow_bench"],
        watch_interval=opts["watch_interval"],
        verbose=opts["verbose"],
    )
    try:
        run_server(options, installed)
    except ConfigError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot listen on {opts['listen']}: {exc.strerror or exc}")


@main.command(name="checks")
def list_checks() -> None:
    """The installed checks, built-in and plug-in."""
    from lmdoctor.redact import scrub
    from lmdoctor.registry import load_checks
    from lmdoctor.render.layout import plain_table, terminal_columns

    checks, problems = load_checks()
    rows = [
        (c.id, c.title, c.package, ", ".join(c.needs) or "-", "yes" if c.opt_in else "")
        for c in checks
    ]
    header = ("id", "title", "package", "needs", "opt-in")
    click.echo(plain_table(header, [[scrub(str(v)) for v in r] for r in rows], terminal_columns()))
    for problem in problems:
        click.echo(f"lmdoctor: warning: {scrub(problem)}", err=True)


# ---------------------------------------------------------------------------------------------


def _targets(opts: dict[str, Any]) -> list[Target]:
    """The targets to diagnose (a config file's own problems come as a target of kind "file")."""
    models = list(opts["models"])
    if opts["url"]:
        from lmdoctor.config.adhoc import adhoc_target  # not the PicoClaw reader

        if len(models) > 1:
            fail("with a URL, give at most one --model (the id to request)")
        key, source = opts["api_key"], "--api-key"
        if not key:
            key, source = os.environ.get("LMDOCTOR_API_KEY"), "$LMDOCTOR_API_KEY"
        try:
            return [adhoc_target(opts["url"], models[0] if models else None, key, source)]
        except ValueError as exc:
            fail(f"{opts['url']}: {exc}")
    from lmdoctor.config import ConfigError, load, locate

    path, looked = locate(opts["config_path"])
    if path is None:
        _no_config(looked)
    try:
        config = load(path)
        return config.select(models, opts["every"])
    except ConfigError as exc:
        fail(str(exc))
    raise AssertionError("unreachable")


def _no_config(looked: list[Path]) -> NoReturn:
    lines = ["lmdoctor: no PicoClaw config found. Looked at:"]
    lines += [f"  {p}" for p in looked]
    lines += [
        "Create one with `picoclaw onboard`, or point at it with --config PATH or",
        "$PICOCLAW_CONFIG; or check an endpoint directly: lmdoctor check URL --model ID.",
        # pkg/config/config.go:1269-1277 + legacy_provider.go:28-31 (tests/conformance case 54)
        "(Without a config PicoClaw runs on its built-in defaults, which name no model:",
        """`picoclaw agent` stops with 'model "" not found in model_list'.)""",
    ]
    click.echo("\n".join(lines), err=True)
    try:
        from lmdoctor import discovery
        from lmdoctor.redact import scrub
        from lmdoctor.render import scan as render_scan
    except ImportError:
        sys.exit(ExitStatus.USAGE)
    click.echo("\nLLM servers on this machine:", err=True)
    scan = render_scan.render(discovery.run_scan(None), "table")
    click.echo(scrub(scan, laid_out=True), err=True)
    sys.exit(ExitStatus.USAGE)


# Optional extras of httpx/httpcore that lmdoctor never uses but that they import whenever they
# are installed: httpcore's trio support (trio, attrs, outcome, sortedcontainers: ~70 modules),
# httpx's command-line client (rich, pygments) and HTTP/2 (h2, hpack, hyperframe: lmdoctor's
# client never asks for http2=True). Measured: ~20% of a check's start-up.
_UNUSED_EXTRAS = ("trio", "httpx._main", "h2")


def _import_http_stack() -> None:
    """Import httpx and httpcore without their unused extras. A None entry in sys.modules makes
    `import name` raise ImportError, which both libraries take as "not installed"; the entries
    are removed again at once, so anything else may still import them."""
    if "httpx" in sys.modules:
        return
    blocked = [name for name in _UNUSED_EXTRAS if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        import httpcore  # noqa: F401  (httpx imports it lazily; here, inside the block)
        import httpx  # noqa: F401
    finally:
        for name in blocked:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


def _run(opts: dict[str, Any]) -> Report:
    import asyncio

    _import_http_stack()

    from lmdoctor import runner
    from lmdoctor.context import Session
    from lmdoctor.http import HttpClient
    from lmdoctor.redact import remember_url, scrub
    from lmdoctor.registry import RegistryError, code_filter, load_checks, select
    from lmdoctor.settings import Settings

    try:
        installed, problems = load_checks()
    except RegistryError as exc:
        fail(str(exc))
    for problem in problems:  # before the names: a plug-in that failed to load says why
        click.echo(f"lmdoctor: warning: {scrub(problem)}", err=True)
    _check_names(installed, opts)
    targets = _targets(opts)
    for target in targets:  # a server may echo them back: scrub them like keys
        remember_url(target.api_base)
        remember_url(target.proxy or "")
    checks = select(installed, opts["only"], opts["skip"], bench=opts["bench"])
    wait_s = opts.get("wait") or 0.0
    settings = Settings.with_timeout(
        opts["timeout"], bench=opts["bench"], verbose=opts["verbose"], wait_s=wait_s
    )

    async def go() -> Report:
        http = HttpClient(settings)
        try:
            if wait_s:
                await _wait_ready(http, targets, wait_s)
            with _Progress(len(targets)) as progress:
                return await runner.run(Session(settings, http), targets, checks, progress.update)
        finally:
            await http.aclose()

    result = asyncio.run(go())
    keep = code_filter(opts["only"], opts["skip"])
    for target_result in result.results:
        target_result.findings = [f for f in target_result.findings if keep(f)]
    return result


def _check_names(installed: list[Any], opts: dict[str, Any]) -> None:
    """--only/--skip names that match no check or code are usage errors, not silent no-ops."""
    from lmdoctor.registry import unknown_names

    for flag in ("only", "skip"):
        for name, close in unknown_names(installed, opts[flag]):
            hint = f"; did you mean {close!r}?" if close else " (`lmdoctor checks` lists them)"
            fail(f"--{flag} {name!r}: no such check or code{hint}")


async def _wait_ready(http: Any, targets: list[Target], seconds: float) -> None:
    """--wait: poll until every server is up and loaded (a progress line on a terminal only);
    what is still not ready when the time is up, the checks then report."""
    from lmdoctor import readiness
    from lmdoctor.redact import scrub

    tty = sys.stderr.isatty() and not os.environ.get("CI")

    def show(line: str) -> None:
        sys.stderr.write("\r\x1b[2K" + scrub(line)[:200])
        sys.stderr.flush()

    try:
        await readiness.wait(http, targets, seconds, show if tty else None)
    finally:
        if tty:
            sys.stderr.write("\r\x1b[2K")
            sys.stderr.flush()


class _Progress:
    """A line on stderr, only on a TTY and only when the run takes over a second."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.width = total, 0, 0
        self._task: Any = None
        self.enabled = sys.stderr.isatty() and not os.environ.get("CI")

    def update(self, done: int, total: int) -> None:
        self.done = done

    async def _show(self) -> None:
        import asyncio

        await asyncio.sleep(1.0)
        while True:
            sys.stderr.write(self.line())
            sys.stderr.flush()
            await asyncio.sleep(0.2)

    def line(self) -> str:
        # \r and spaces, no ANSI erase-line: old Windows consoles print "\x1b[2K" literally
        text = f"checking... {self.done}/{self.total} targets done"
        self.width = max(self.width, len(text))
        return "\r" + text.ljust(self.width)

    def __enter__(self) -> _Progress:
        import asyncio

        if self.enabled:
            self._task = asyncio.ensure_future(self._show())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            sys.stderr.write("\r" + " " * self.width + "\r")
            sys.stderr.flush()


def _color(stream: Any) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("CLICOLOR_FORCE", "0") != "0":
        return True
    if os.environ.get("CLICOLOR") == "0":
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def _emit(result: Report, opts: dict[str, Any], exit_code: bool = True) -> None:
    from lmdoctor.findings import Severity
    from lmdoctor.render import RenderOptions, render, summary_line

    threshold = Severity.parse(opts["fail_on"])
    failing = result.worst() >= threshold
    options = RenderOptions(
        verbose=opts["verbose"],
        color=_color(sys.stdout) and not opts["output"],
        quiet=opts.get("quiet", False),
        fail_on=threshold,
        mask_hosts=opts.get("mask_hosts", False),
    )
    text = render(opts["fmt"], result, options)
    _write(text, opts["output"], color=options.color)
    if opts["output"] and not (options.quiet and not failing):
        click.echo(summary_line(result, options) + f" (report written to {opts['output']})")
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if opts["fmt"] == "github" and summary_file:
        from lmdoctor.render.github import step_summary

        _write(step_summary(result, options), summary_file, append=True)
    if exit_code:
        sys.exit(ExitStatus.FINDINGS if failing else ExitStatus.OK)


def _write(text: str, path: str | None, *, color: bool = False, append: bool = False) -> None:
    """The exit door for reports: known secrets and key-shaped tokens are scrubbed here once
    more (the renderers scrubbed every field before layout). `color`: the text
    holds our own colours (click would strip them off a non-TTY, defeating CLICOLOR_FORCE)."""
    from lmdoctor.redact import scrub

    text = scrub(text, laid_out=True)  # fields were scrubbed before layout; this is the net
    if path is None:
        if text:
            click.echo(text, nl=not text.endswith("\n"), color=color or None)
        return
    text = text if text.endswith("\n") else text + "\n"
    try:
        if append:
            with open(path, "a", encoding="utf-8") as out:
                out.write(text)
        else:
            from lmdoctor.outfile import write_atomic

            write_atomic(path, text)  # temp file + rename: readers never see half a file
    except OSError as exc:
        fail(f"{path}: cannot write the report: {exc.strerror or exc}")
