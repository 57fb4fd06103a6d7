"""What PicoClaw's config.json may hold: field names (version 3 is strict) and field types.

Facts: ../shared/reference/picoclaw-config.md §1.5 (Config), §2.1 (ModelConfig), §2.2
(AgentDefaults). PicoClaw decodes into typed Go structs, so a wrong type stops the load.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

CURRENT_VERSION = 3
SECURITY_FILE = ".security.yml"

# Version 3 is decoded strictly (reference §1.4). Fields per §1.5, §2.1, §2.2.
TOP_LEVEL_FIELDS = frozenset(
    {
        "version",
        "isolation",
        "agents",
        "session",
        "evolution",
        "channel_list",
        "model_list",
        "gateway",
        "events",
        "hooks",
        "tools",
        "heartbeat",
        "devices",
        "voice",
        "build_info",
    }
)
MODEL_FIELDS = frozenset(
    {
        "model_name",
        "provider",
        "model",
        "api_base",
        "api_keys",
        "proxy",
        "fallbacks",
        "rpm",
        "max_tokens_field",
        "request_timeout",
        "thinking_level",
        "tool_schema_transform",
        "streaming",
        "extra_body",
        "custom_headers",
        "user_agent",
        "auth_method",
        "connect_mode",
        "workspace",
        "enabled",
        "web_search",  # copied into entries by PicoClaw's own providers migration
    }
)
# agents.defaults grows every release, so only the renamed `model` and near-misses of these
# names (typos) are flagged there; other unknown keys are left alone.
AGENT_DEFAULTS_FIELDS = frozenset(
    {
        "workspace",
        "restrict_to_workspace",
        "allow_read_outside_workspace",
        "provider",
        "model_name",
        "model_fallbacks",
        "image_model",
        "image_model_fallbacks",
        "max_tokens",
        "context_window",
        "temperature",
        "max_tool_iterations",
        "summarize_message_threshold",
        "summarize_token_percent",
        "max_media_size",
        "routing",
        "steering_mode",
        "subturn",
        "tool_feedback",
        "split_on_marker",
        "context_manager",
        "context_manager_config",
        "turn_profile",
        "max_llm_retries",
        "llm_retry_backoff_secs",
    }
)
# How to fix a field that version 3 no longer has.
RENAMED_FIELDS: dict[str, str] = {
    "api_key": 'rename "api_key": "..." to "api_keys": ["..."] (or move the key to '
    ".security.yml under model_list.<model_name>.api_keys)",
    "model": 'rename "model" to "model_name"',
    "channels": 'rename "channels" to "channel_list"',
    "providers": 'move each provider into a model_list entry ("model_name", '
    '"model": "<provider>/<model id>", "api_base") and delete "providers"',
    "bindings": 'delete "bindings" (a version 0 field)',
}


# ------------------------------------------------------------------------------ field types


def is_str(value: Any) -> bool:
    return isinstance(value, str)


def is_int(value: Any) -> bool:
    """A Go int: a JSON whole number within 64 bits."""
    return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63


def is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def is_object(value: Any) -> bool:
    return isinstance(value, dict)


def is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(v is None or isinstance(v, str) for v in value)


STRING = (is_str, "a string", '"..."')
INT = (is_int, "a whole number", "120")
STRINGS = (is_str_list, "a list of strings", '["..."]')
OBJECT = (is_object, "an object", "{...}")
FieldType = tuple[Callable[[Any], bool], str, str]
MODEL_FIELD_TYPES: dict[str, FieldType] = {
    **dict.fromkeys(
        (
            "model_name",
            "provider",
            "model",
            "api_base",
            "api_key",
            "proxy",
            "max_tokens_field",
            "thinking_level",
            "tool_schema_transform",
            "user_agent",
            "auth_method",
            "connect_mode",
            "workspace",
        ),
        STRING,
    ),
    "api_keys": STRINGS,
    "fallbacks": STRINGS,
    "rpm": INT,
    "request_timeout": INT,
    "enabled": (is_bool, "true or false", "true"),
    "streaming": OBJECT,
    "extra_body": OBJECT,
    "custom_headers": OBJECT,
}
AGENT_DEFAULTS_TYPES: dict[str, FieldType] = {
    "model_name": STRING,
    "model": STRING,
    "provider": STRING,
    "model_fallbacks": STRINGS,
    "max_tokens": (is_int, "a whole number", "32768"),
    "context_window": (is_int, "a whole number", "131072"),
}
