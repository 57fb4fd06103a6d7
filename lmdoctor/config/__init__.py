"""Configuration sources → Targets. PicoClaw's config.json is the first-class one.

The names below are imported on first use (PEP 562): `lmdoctor check URL` needs only
config.adhoc and config.providers, not the PicoClaw reader (~15 modules of start-up).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lmdoctor.config.adhoc import adhoc_target
    from lmdoctor.config.picoclaw import Config, ConfigError, load, locate

__all__ = ["Config", "ConfigError", "adhoc_target", "load", "locate"]


def __getattr__(name: str) -> Any:
    if name == "adhoc_target":
        from lmdoctor.config.adhoc import adhoc_target

        return adhoc_target
    if name in __all__:
        from lmdoctor.config import picoclaw

        return getattr(picoclaw, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
