"""The one place that builds URLs and compares origins."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


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


def path(url: str) -> str:
    return urlsplit(url).path


def with_path(url: str, new_path: str) -> str:
    """The same origin with another path (for trying candidate base URLs)."""
    return join(root(url), new_path) if new_path.strip("/") else root(url)


def display(url: str) -> str:
    """A URL safe to show: no userinfo, no query."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rsplit("@", 1)[-1], parts.path, "", ""))
