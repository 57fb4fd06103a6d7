"""The one place that builds URLs and compares origins."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


def bracket(host: str) -> str:
    """A host as it goes into a URL or a Host header: an IPv6 address in brackets."""
    return f"[{host}]" if ":" in host else host


def join(base: str, path: str) -> str:
    """`base` + `/path`, with exactly one slash between them (as PicoClaw does after trimming)."""
    return base.rstrip("/") + "/" + path.lstrip("/")


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) with the default port filled in; host lower-cased."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(scheme, 0)


def same_origin(a: str, b: str) -> bool:
    return origin(a) == origin(b)


def host_port(url: str) -> tuple[str, int]:
    _, host, port = origin(url)
    return host, port


def root(url: str) -> str:
    """scheme://host:port with no path: where native APIs (/api/tags, /props) live."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rsplit("@", 1)[-1], "", "", ""))


def api_root(url: str) -> str:
    """Where a server's native routes live: api_base without its trailing /v1, so a server
    started under a path prefix (llama-server --api-prefix /llm) keeps it: http://h:8080/llm."""
    prefix = urlsplit(url).path.rstrip("/")
    prefix = prefix[: -len("/v1")] if prefix.endswith("/v1") else ""
    return with_path(url, prefix) if prefix.strip("/") else root(url)


def path(url: str) -> str:
    return urlsplit(url).path


def with_path(url: str, new_path: str) -> str:
    """The same origin with another path (for trying candidate base URLs)."""
    return join(root(url), new_path) if new_path.strip("/") else root(url)


def with_port(url: str, port: int) -> str:
    """The same URL on another port (for naming the port a server really answers on)."""
    parts = urlsplit(url)
    host = bracket(parts.hostname or "")
    return urlunsplit((parts.scheme, f"{host}:{port}", parts.path, parts.query, ""))


def with_scheme(url: str, scheme: str) -> str:
    """The same URL with another scheme, keeping an explicit port (https -> http mismatch)."""
    parts = urlsplit(url)
    host = bracket(parts.hostname or "")
    port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower(), 0)
    netloc = host if DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path, parts.query, ""))


def display(url: str) -> str:
    """A URL safe to show: no userinfo, no query."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rsplit("@", 1)[-1], parts.path, "", ""))
