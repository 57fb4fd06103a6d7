"""Configuration sources → Targets. PicoClaw's config.json is the first-class one."""

from lmdoctor.config.picoclaw import (
    Config,
    ConfigError,
    adhoc_target,
    load,
    locate,
)

__all__ = ["Config", "ConfigError", "adhoc_target", "load", "locate"]
