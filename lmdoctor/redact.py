"""Keep secrets out of everything that leaves the process.

Three layers:

- `Secret` (in secret.py, re-exported here) never shows its value: not through str, repr,
  format/f-strings, %-formatting, logging (which uses str/repr) or tracebacks (which show
  reprs); pickling refuses.
- `scrub()` removes every secret value this process has seen (`Secret(...)` and `remember()`)
  plus anything that looks like a credential: key patterns (`sk-…`, `sk-ant-…`, `sk-lm-…`,
  `hf_…`, `nvapi-…`, `gsk_…`, GitHub/GitLab tokens, `AIza…`, `AKIA…`), `Bearer …`, the value
  of an `Authorization:` header, JWTs, `"api_key": "…"`-style pairs, URL userinfo and
  secret-looking query parameters. The CLI passes every text it writes through it.
- Allow-lists: `target_fields()` is everything a report may show about a target; proxies are
  shown as scheme://host:port only (`proxy_display()`).

`HostMasker` replaces host names and addresses with host-1, host-2, … for `--mask-hosts`.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from lmdoctor import urls
from lmdoctor.secret import MASK, Secret, _known, remember  # also importable from here

if TYPE_CHECKING:
    from lmdoctor.target import Target

_SHORT = 8  # known values shorter than this are only replaced as whole words

# a query parameter named like a credential: api_key, access_token, sig, X-Amz-Credential, …
_SECRET_PARAM = (
    r"[a-z0-9_.\-]*?(?:key|token|secret|password|passwd|pwd|sig|signature|auth|credentials?|code)"
)
_SECRET_PARAM_NAME = rf"(?i)^{_SECRET_PARAM}$"

# (category, pattern, hints). A pattern with a group keeps group 1 and masks the rest of the
# match. It can match only text that holds one of its hints (lowercase, looked for in the text
# lowercased): scrub() skips it otherwise. Patterns are strings, compiled (and cached by re) on
# first need: most output holds no hint, and compiling them all cost ~2 % of a check's start-up.
# tests/test_redact.py compares scrub() with and without the hints.
_PATTERNS: list[tuple[str, str, tuple[str, ...]]] = [
    ("key-shaped string", r"\bsk-[A-Za-z0-9_\-]{8,}(?::[A-Za-z0-9_\-]{4,})?", ("sk-",)),
    (
        "key-shaped string",
        r"\b(?:hf_|gsk_|nvapi-|xai-|pplx-|glpat-)[A-Za-z0-9_\-]{8,}",
        ("hf_", "gsk_", "nvapi-", "xai-", "pplx-", "glpat-"),
    ),
    (
        "key-shaped string",
        r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})",
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    ),
    ("key-shaped string", r"\b(?:AIza[0-9A-Za-z_\-]{30,}|AKIA[0-9A-Z]{16})\b", ("aiza", "akia")),
    (
        "authorization header",
        r"(?i)(\b(?:proxy-)?authorization[\"']?[ \t]*[:=][ \t]*[\"']?"
        r"(?!(?:(?:bearer|basic|digest|token)[ \t]+)?(?:\*\*\*|[<$]))"
        r"(?:(?:bearer|basic|digest|token)[ \t]+)?)[^\s\"',;│]{3,}",
        ("authorization",),
    ),
    ("bearer token", r"(?i)(\bbearer[ \t]+)[A-Za-z0-9._~+/\-]{6,}=*", ("bearer",)),
    ("JWT", r"\beyJ[A-Za-z0-9_\-]{6,}\.[A-Za-z0-9_\-]{6,}\.[A-Za-z0-9_\-]{6,}", ("eyj",)),
    (
        "secret field",
        r"(?i)([\"']?\b(?:x-)?(?:api[_-]?key|apikey|access[_-]?token|refresh[_-]?token"
        r"|auth[_-]?token|client[_-]?secret|secret|password|passwd)(?P<q>[\"']?)[ \t]*"
        r"(?P<sep>[:=])[ \t]*(?P<v>[\"']?))"
        # not a reference to where a key lives ("api_key": ".security.yml …", "--api-key",
        # "$VAR", "LMDOCTOR_API_KEY", "file://…") nor lmdoctor's own "set, sk-… (N chars)"
        r"(?!\*\*\*|config\.json|[./~$-]|(?:set|none|null|true|false|default)\b"
        r"|file://|enc://|(?-i:[A-Z][A-Z0-9]*_[A-Z0-9_]*\b))"
        r"[^\s\"',;&}│]+",
        ("key", "token", "secret", "passw"),
    ),
    # user:password@ in URLs (greedy up to the last @ before the path: passwords hold '@' too)
    ("URL credentials", r"(?i)(\b[a-z][a-z0-9+.\-]*://)(?!\*\*\*@)[^/\s\"'<>]*@", ("@",)),
    ("secret query parameter", rf"(?i)([?&;]{_SECRET_PARAM}=)(?!\*\*\*)[^&\s#\"']+", ("=",)),
]
# Non-ASCII letters that re's IGNORECASE matches to ASCII ones (İ ı → i, ſ → s, K → k): a hint
# could hide behind them, so text holding one goes through every pattern.
_FOLDS_TO_ASCII = frozenset("\u0130\u0131\u017f\u212a")
_SECRET_NAME = (
    r"(?i)^(?:x-)?(?:api[_-]?keys?|apikey|authorization|proxy-authorization|cookie|set-cookie"
    r"|access[_-]?token|refresh[_-]?token|auth[_-]?token|token|client[_-]?secret|secret"
    r"|password|passwd|passphrase)$"
)


def _replace_known(text: str, counts: Counter[str] | None) -> str:
    for value in sorted(_known, key=len, reverse=True):
        if value not in text:
            continue
        if len(value) >= _SHORT:
            n = text.count(value)
            text = text.replace(value, MASK)
        else:  # short values only as whole words: "abc" must not eat "abcde"
            text, n = re.subn(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])", MASK, text)
        if counts is not None and n:
            counts["configured key"] += n
    return text


def _credential_shaped(value: str) -> bool:
    """An unquoted value after "name:" in prose is a secret only if it looks like one:
    "api_key: PicoClaw rejects this field" names a program, "api_key: 9f3a…" a key."""
    if any(c in value for c in "[]()`") or value.endswith((":", ".")):
        return False  # a config path, a code span, the end of a sentence
    if len(value) >= 16:
        return True
    return len(value) >= 6 and any(c.isdigit() or c in "_-+/=" for c in value)


# Patterns that match one self-delimiting token (no spaces): safe to run on laid-out text
# (a table, JSON, XML) as the last net. The others read the words around a value and run
# only on single fields, before layout.
_TOKEN_CATEGORIES = frozenset(
    {"key-shaped string", "JWT", "URL credentials", "secret query parameter"}
)


def scrub(text: str, counts: Counter[str] | None = None, *, laid_out: bool = False) -> str:
    """Remove known secrets and credential-shaped strings from text bound for output.

    Renderers scrub each field before layout. `laid_out`: the text is already drawn (a table,
    JSON): only known values and self-delimiting tokens are replaced, never the words, borders
    or quotes around them. With `counts`, tally what was removed by category (for the triage
    report's list).
    """
    if not text:
        return text
    text = _replace_known(text, counts)
    for category, pattern, hints in _PATTERNS:
        if laid_out and category not in _TOKEN_CATEGORIES:
            continue
        lowered = text.lower()
        if _FOLDS_TO_ASCII.isdisjoint(text) and not any(hint in lowered for hint in hints):
            continue  # the pattern cannot match

        def masked(m: re.Match[str], category: str = category) -> str:
            if (
                category == "secret field"
                and m.group("sep") == ":"
                and not (m.group("q") or m.group("v"))
                and not _credential_shaped(m.group(0)[len(m.group(1)) :])
            ):
                return m.group(0)
            if counts is not None:
                counts[category] += 1
            kept = m.group(1) if m.re.groups else ""
            return kept + MASK + ("@" if category == "URL credentials" else "")

        text = re.sub(pattern, masked, text)
    return text


def _has_value(v: Any) -> bool:
    return not isinstance(v, bool) and v not in (None, "", [], {})


def scrub_data(value: Any, counts: Counter[str] | None = None, *, by_name: bool = False) -> Any:
    """scrub() applied to every string inside plain data (evidence, JSON). With `by_name`, the
    value of a key named like a credential (api_key, authorization, cookie, password, …) is
    masked whole: for evidence, where checks put headers and bodies they received."""
    if isinstance(value, str):
        return scrub(value, counts)
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            key = scrub(k, counts) if isinstance(k, str) else k
            if by_name and isinstance(k, str) and re.match(_SECRET_NAME, k) and _has_value(v):
                if counts is not None:
                    counts["secret field"] += 1
                out[key] = MASK
            else:
                out[key] = scrub_data(v, counts, by_name=by_name)
        return out
    if isinstance(value, (list, tuple)):
        return [scrub_data(v, counts, by_name=by_name) for v in value]
    return value


def scrub_evidence(evidence: dict[str, Any], counts: Counter[str] | None = None) -> Any:
    """A finding's evidence, safe to show: scrubbed, credential-named fields masked."""
    return scrub_data(evidence, counts, by_name=True)


# --------------------------------------------------------------------------------- allow-lists


def proxy_display(value: str) -> tuple[str, bool]:
    """A proxy setting as scheme://host:port only, and whether it carried credentials."""
    text = value.strip()
    if not text:
        return "", False
    parts = urlsplit(text if "://" in text else "http://" + text)
    try:
        port = parts.port
    except ValueError:
        port = None
    host = urls.bracket(parts.hostname or "")
    shown = f"{parts.scheme}://{host}" + (f":{port}" if port else "")
    return shown, url_has_credentials(parts.geturl())


def _secret_params(query: str) -> list[str]:
    """The values of credential-named query parameters."""
    pairs = parse_qsl(query, keep_blank_values=True)
    return [value for name, value in pairs if re.match(_SECRET_PARAM_NAME, name)]


def remember_url(url: str) -> None:
    """Register the credentials inside a URL (user, password, secret query values), so that a
    server echoing them back is scrubbed too."""
    parts = urlsplit(url)
    if "@" in parts.netloc:
        for value in parts.netloc.rsplit("@", 1)[0].split(":", 1):
            remember(unquote(value))
    for value in _secret_params(parts.query):
        remember(value)


def url_has_credentials(url: str) -> bool:
    """Userinfo or a secret-looking query parameter in a URL."""
    parts = urlsplit(url)
    return "@" in parts.netloc or bool(_secret_params(parts.query))


# Everything a report may show about a target; anything else (custom_headers, extra_body,
# the raw config entry) stays out, whatever it holds.
TARGET_FIELDS = (
    "name",
    "kind",
    "provider",
    "api_base",
    "model",
    "model_id",
    "entry",
    "config_file",
    "line",
    "api_key",
    "proxy",
    "request_timeout",
    "max_tokens",
    "context_window",
    "sources",
    "request",
)


def target_fields(target: Target) -> dict[str, Any]:
    """The allow-listed facts about a target, safe to show (the key only as a shape hint)."""
    proxy = proxy_display(target.proxy)[0] if target.proxy else None
    return {
        "name": target.name,
        "kind": target.kind,
        "provider": target.provider if target.is_endpoint else None,
        "api_base": scrub(target.api_base) or None,
        "model": target.model or None,
        "model_id": target.model_id or None,
        "entry": target.entry or None,
        "config_file": str(target.config_path) if target.config_path else None,
        "line": target.line,
        "api_key": f"set, {target.api_key.fingerprint()}" if target.api_key else None,
        "proxy": proxy,
        "request_timeout": target.request_timeout,
        "max_tokens": target.max_tokens,
        "context_window": target.context_window or None,
        "sources": {k: scrub(str(v)) for k, v in target.sources.items()},
        "request": scrub_data(target.request.as_dict()) if target.request else None,
    }


def home_to_tilde(text: str, home: str | None = None) -> str:
    """Replace the home directory (it names the user) with ~ in report text. A Windows home
    (C:\\Users\\ann) is also found written with forward slashes (C:/Users/ann, as Git Bash and
    JSON configs write it) and in any letter case (Windows paths ignore case)."""
    home = home if home is not None else str(Path.home())
    if len(home) <= 1:
        return text
    if re.match(r"^[A-Za-z]:[\\/]|^[\\/]{2}", home):
        body = re.split(r"[\\/]+", home.strip("\\/"))
        pattern = r"[\\/]+".join(re.escape(part) for part in body)
        lead = r"[\\/]{2}" if home[:2] in ("\\\\", "//") else ""
        return re.sub(lead + pattern + r"(?![^\\/\s\"'])", "~", text, flags=re.IGNORECASE)
    return text.replace(home, "~")


# ------------------------------------------------------------------------------- host masking

# Names that reveal nothing about a network and keep their diagnostic value.
KEPT_HOSTS = frozenset(
    {"localhost", "ip6-localhost", "host.docker.internal", "host.containers.internal",
     "gateway.docker.internal", "0.0.0.0", "::", "::1"}
)  # fmt: skip
# Patterns, not compiled ones: only `report` masks hosts, so re compiles (and caches) them on
# first use instead of at every start-up.
_URL_HOST = (
    r"(?i)\b[a-z][a-z0-9+.\-]*://(?:[^/\s@]*@)?(\[[0-9a-f:.%a-z]+\]|[^/\s:?#\[\]\"'<>`|,)]+)"
)
_IPV4 = r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?!\d|\.\d)"
_IPV6 = r"(?<![\w:.])(?=[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:)[0-9A-Fa-f:]{2,39}(?![\w:])"
_HOST_KEYS = r"(?i)^(?:host|hostname|hosts|address|addresses|ip|ips|peer|server_host)$"
_URL_KEYS = r"(?i)(?:url|urls|api_base|base|proxy|location|origin|redirects?)$"


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True


def _kept(host: str) -> bool:
    bare = host.strip("[]").lower().rstrip(".")
    if bare in KEPT_HOSTS or bare.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(bare)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


class HostMasker:
    """Consistent host-1, host-2, … for every host name and address, loopback excepted.

    Hosts are numbered in the order they are registered: first `add()`ed (a report's targets,
    in order), then as `mask()` meets them in URLs and IP literals.
    """

    def __init__(self, hosts: Iterable[str] = ()) -> None:
        self.labels: dict[str, str] = {}
        for host in hosts:
            self.add(host)

    def add(self, host: str) -> None:
        key = host.strip().strip("[]").lower().rstrip(".")
        if not key or _kept(key) or key in self.labels or key.startswith("host-"):
            return
        self.labels[key] = f"host-{len(self.labels) + 1}"

    def add_url(self, url: str) -> None:
        try:
            host = urlsplit(url if "://" in url else "//" + url).hostname
        except ValueError:
            return
        if host:
            self.add(host)

    def collect(self, value: Any, key: str = "") -> None:
        """Register the hosts inside plain data: values under host/url-like keys, URLs, IPs."""
        if isinstance(value, dict):
            for k, v in value.items():
                self.collect(v, str(k))
        elif isinstance(value, (list, tuple)):
            for v in value:
                self.collect(v, key)
        elif isinstance(value, str):
            if re.match(_HOST_KEYS, key) and value and " " not in value and "://" not in value:
                self.add(value.rsplit("%", 1)[0])  # fe80::1%eth0: the zone is no host
            elif value and (re.match(_HOST_KEYS, key) or re.search(_URL_KEYS, key)):
                self.add_url(value)
            self.scan(value)

    def scan(self, text: str) -> None:
        """Register hosts of URLs and IP literals in `text`, numbered in order of appearance."""
        found = [(m.start(1), m.group(1)) for m in re.finditer(_URL_HOST, text)]
        for pattern in (_IPV4, _IPV6):
            found += [(m.start(), m.group(0)) for m in re.finditer(pattern, text) if _is_ip(m[0])]
        for _, host in sorted(found):
            self.add(host)

    def mask(self, text: str) -> str:
        """Replace every registered host (and any new one found in text) with its label."""
        if not text:
            return text
        self.scan(text)
        if not self.labels:
            return text
        names = sorted(self.labels, key=len, reverse=True)
        pattern = re.compile(
            r"(?i)(?<![\w.\-])\[?(" + "|".join(re.escape(n) for n in names) + r")\]?(?![\w\-]|\.\w)"
        )
        return pattern.sub(lambda m: self.labels[m.group(1).lower()], text)

    def mask_data(self, value: Any) -> Any:
        return map_strings(self.mask, value)


def map_strings(fn: Callable[[str], str], value: Any) -> Any:
    """`fn` applied to every string (keys included) inside plain data."""
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, dict):
        return {map_strings(fn, k): map_strings(fn, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [map_strings(fn, v) for v in value]
    return value
