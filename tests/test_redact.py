"""Redaction: the Secret type, scrub() patterns, allow-lists and host masking."""

from __future__ import annotations

import copy
import dataclasses
import io
import logging
import pickle
import traceback
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmdoctor.redact import (
    MASK,
    TARGET_FIELDS,
    HostMasker,
    Secret,
    home_to_tilde,
    proxy_display,
    remember,
    scrub,
    scrub_data,
    scrub_evidence,
    target_fields,
    url_has_credentials,
)
from lmdoctor.target import Target

VALUE = "sk-lm-REDACTTEST0123456789abcdef"

# ------------------------------------------------------------------------------------- Secret


def test_secret_never_shows_its_value() -> None:
    secret = Secret(VALUE)
    shown = [
        str(secret),
        repr(secret),
        f"{secret}",
        f"{secret!r}",
        f"{secret:>40}",
        "%s %r" % (secret, secret),  # noqa: UP031
        "{}".format(secret),  # noqa: UP032
        str([secret]),
        str({"k": secret}),
    ]
    for text in shown:
        assert VALUE not in text
    assert secret.reveal() == VALUE


def test_secret_stays_out_of_logging() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("lmdoctor.test_redact")
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    try:
        logger.warning("key %s / %r", Secret(VALUE), Secret(VALUE))
        logger.warning("target %s", Target("t", api_key=Secret(VALUE)))
    finally:
        logger.removeHandler(handler)
    assert VALUE not in stream.getvalue()
    assert MASK in stream.getvalue()


def test_secret_stays_out_of_tracebacks() -> None:
    secret = Secret(VALUE)
    try:
        raise ValueError(f"bad key {secret}", secret)
    except ValueError:
        text = traceback.format_exc()
    assert VALUE not in text


def test_secret_refuses_pickle_but_survives_copy_and_asdict() -> None:
    secret = Secret(VALUE)
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    with pytest.raises(TypeError):
        pickle.dumps(Target("t", api_key=secret))
    assert copy.deepcopy(secret) is secret
    as_dict = dataclasses.asdict(Target("t", api_key=secret))
    assert VALUE not in str(as_dict)


def test_fingerprint_is_a_shape_only() -> None:
    assert Secret(VALUE).fingerprint() == f"sk-lm-… ({len(VALUE)} chars)"
    assert Secret("hunter2").fingerprint() == "7 chars"


# --------------------------------------------------------------------------------------- scrub

SCRUBBED = [
    # (text, what must disappear)
    ("key sk-abcdefgh12345678 end", "sk-abcdefgh12345678"),
    ("sk-ant-api03-AbCdEf123456_-xyz", "AbCdEf123456"),
    ("sk-lm-Abc12345:Def67890", "Abc12345"),
    ("sk-lm-Abc12345:Def67890", "Def67890"),
    ("sk-proj-ABCDEFGH12345678", "ABCDEFGH12345678"),
    ("token hf_AbCdEfGhIjKlMnOp", "hf_AbCdEfGhIjKlMnOp"),
    ("nvapi-AbCdEfGh12345678", "AbCdEfGh12345678"),
    ("gsk_AbCdEfGh12345678", "AbCdEfGh12345678"),
    ("ghp_" + "a1" * 12, "a1a1a1a1a1"),
    ("Authorization: Bearer abc.def-ghi", "abc.def-ghi"),
    ("authorization=Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
    ("Proxy-Authorization: secretvalue", "secretvalue"),
    ("send bearer Zm9vYmFyYmF6", "Zm9vYmFyYmF6"),
    ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlX18", "eyJzdWIiOiIxIn0"),
    ("http://user:p@ss@10.0.0.5:8000/v1", "p@ss"),
    ("http://user:p@ss@10.0.0.5:8000/v1", "user"),
    ("https://alice:s3cret@proxy.example:3128", "s3cret"),
    ("http://h/v1?api_key=abc123&x=1", "abc123"),
    ("http://h/v1?x=1&access_token=tok987", "tok987"),
    ("http://h/v1?sig=SIGNATURE1", "SIGNATURE1"),
    ('{"api_key": "hunter22x"}', "hunter22x"),
    ("password=correct-horse-9", "correct-horse-9"),
    ("'client_secret': 'xyz98765'", "xyz98765"),
]


@pytest.mark.parametrize(("text", "gone"), SCRUBBED)
def test_scrub_removes_credentials(text: str, gone: str) -> None:
    assert gone not in scrub(text)


KEPT = [
    "max_tokens=32768 and ?max_tokens=5",
    "The server wants 'Authorization: Bearer <token>'",
    'Set "api_key" in .security.yml',
    '"api_key": ".security.yml model_list.local"',
    '"api_key": "config.json model_list[0]"',
    '"api_key": "--api-key"',
    '"api_key": "LMDOCTOR_API_KEY"',
    '"api_key": "set, sk-lm-… (28 chars)"',
    "http://localhost:1234/v1/models",
    "ollama pull llama3 && lms load qwen",
    "sk-short",
]


@pytest.mark.parametrize("text", KEPT)
def test_scrub_keeps_ordinary_text(text: str) -> None:
    assert scrub(text) == text


def test_known_values_are_removed_wherever_they_appear() -> None:
    Secret("Zq9-known-secret-value")
    assert scrub("echo: xZq9-known-secret-valuex") == f"echo: x{MASK}x"


def test_short_known_values_only_as_whole_words() -> None:
    remember("pw42")
    assert scrub("my pw42 here, pw4200 stays") == f"my {MASK} here, pw4200 stays"


def test_placeholder_keys_are_not_scrubbed_from_text() -> None:
    Secret("ollama")
    Secret("lm-studio")
    assert scrub("ollama pull; the lm-studio key") == "ollama pull; the lm-studio key"
    assert str(Secret("ollama")) == MASK


def test_scrub_counts_by_category() -> None:
    counts: Counter[str] = Counter()
    scrub("http://u:p@h/ Bearer abcdefgh sk-abcdefgh12345678", counts)
    assert counts == {"URL credentials": 1, "bearer token": 1, "key-shaped string": 1}


def test_scrub_is_idempotent() -> None:
    text = "http://u:p@h/?token=x Authorization: Bearer sk-abcdefgh12345678 " + VALUE
    once = scrub(text)
    assert scrub(once) == once


def test_scrub_data_and_evidence() -> None:
    data = {"body": f"echo {VALUE}", "n": 3, "items": [Secret("x" * 10)], VALUE: True}
    assert VALUE not in str(scrub_data(data))
    evidence = {"headers": {"Authorization": "opaque", "X-Api-Key": "k", "Content-Type": "j"}}
    shown = scrub_evidence(evidence)
    assert shown["headers"] == {"Authorization": MASK, "X-Api-Key": MASK, "Content-Type": "j"}
    # only evidence is masked by key name: sources name where a key came from
    assert scrub_data({"api_key": "config.json"}) == {"api_key": "config.json"}
    assert scrub_evidence({"token": False, "password": None}) == {
        "token": False,
        "password": None,
    }


# ---------------------------------------------------------------------------------- allow-list


def test_target_fields_are_the_allow_list() -> None:
    target = Target(
        "t",
        provider="lmstudio",
        api_base="http://u:pw9999@gpu:1234/v1?api_key=zz",
        api_key=Secret(VALUE),
        proxy="http://alice:pw@proxy.corp:3128",
        sources={"api_key": ".security.yml model_list.t"},
    )
    facts = target_fields(target)
    assert tuple(facts) == TARGET_FIELDS
    text = str(facts)
    for secret in (VALUE, "pw9999", "zz", "alice"):
        assert secret not in text
    assert facts["proxy"] == "http://proxy.corp:3128"
    assert facts["api_key"] == f"set, sk-lm-… ({len(VALUE)} chars)"


@pytest.mark.parametrize(
    ("value", "shown", "credentials"),
    [
        ("http://u:p@proxy.corp:3128", "http://proxy.corp:3128", True),
        ("proxy.corp:8080", "http://proxy.corp:8080", False),
        ("socks5h://[::1]:9050", "socks5h://[::1]:9050", False),
        ("http://proxy/?token=abc", "http://proxy", True),
        ("", "", False),
    ],
)
def test_proxy_display(value: str, shown: str, credentials: bool) -> None:
    assert proxy_display(value) == (shown, credentials)


def test_url_has_credentials() -> None:
    assert url_has_credentials("http://u:p@h/v1")
    assert url_has_credentials("http://h/v1?key=1")
    assert not url_has_credentials("http://h:1234/v1")


def test_home_to_tilde() -> None:
    assert home_to_tilde("/home/ann/.picoclaw/config.json", "/home/ann") == (
        "~/.picoclaw/config.json"
    )
    assert home_to_tilde("/x", "/") == "/x"


# -------------------------------------------------------------------------------- host masking


def test_host_masker_is_consistent_and_keeps_loopback() -> None:
    masker = HostMasker(["gpu.lan"])
    text = (
        "http://gpu.lan:8000/v1 then gpu.lan again; 10.1.2.3. and http://[2001:db8::1]:80/x "
        "fe80::1 localhost:1 127.0.0.1 [::1] 0.0.0.0 host.docker.internal 12:30:45"
    )
    masked = masker.mask(text)
    assert masked.count("host-1") == 2
    for gone in ("gpu.lan", "10.1.2.3", "2001:db8::1", "fe80::1"):
        assert gone not in masked
    for kept in ("localhost:1", "127.0.0.1", "[::1]", "0.0.0.0", "host.docker.internal", "12:30"):
        assert kept in masked
    assert masked.endswith("12:30:45")
    assert "host-2." in masked  # the sentence's full stop survives


def test_host_masker_collects_from_evidence_keys() -> None:
    masker = HostMasker()
    masker.collect({"host": "build-box", "addresses": ["192.168.1.9"], "url": "http://nas:1/"})
    assert set(masker.labels) == {"build-box", "192.168.1.9", "nas"}
    assert masker.mask("build-box at nas") == "host-1 at host-3"
    assert masker.mask_data({"build-box": ["nas"]}) == {"host-1": ["host-3"]}


# --- the hints that let scrub() skip (and never compile) a pattern ---------------------------

# Fragments that make texts near every pattern: hint words in several cases and spellings,
# values, separators, quotes, and the non-ASCII letters that IGNORECASE folds to ASCII ones.
_FRAGMENTS = [
    "sk-", "SK-", "hf_", "GSK_", "nvapi-", "xai-", "pplx-", "glpat-", "ghp_", "github_pat_",
    "AIza", "AKIA", "aiza", "eyJ", "EYJ", "authorization", "AUTHORIZATION", "Proxy-", "bearer",
    "Bearer", "basic", "api_key", "API-KEY", "apikey", "x-", "access_token", "refresh-token",
    "auth_token", "client_secret", "secret", "password", "passwd", "token", "sig", "code",
    "http://", "https://", "user", ":", "@", "?", "&", ";", "=", '"', "'", " ", "\t", "/", ".",
    "abcdefgh", "A1b2C3d4E5f6G7h8", "0123456789ABCDEF", "Zm9vYmFy", "***", "│",
    "\u0130", "\u0131", "\u017f", "\u212a", "paſſword", "ſecret", "api_\u212aey", "authorızation",
]  # fmt: skip


def test_the_folded_letters_are_all_that_ignorecase_maps_to_ascii() -> None:
    import re

    from lmdoctor.redact import _FOLDS_TO_ASCII

    everything = "".join(chr(u) for u in range(128, 0x110000) if not 0xD800 <= u < 0xE000)
    assert {m[0] for m in re.finditer(r"(?i)[a-z]", everything)} == _FOLDS_TO_ASCII


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=12))
def test_the_hints_never_skip_a_pattern_that_would_match(parts: list[str]) -> None:
    """scrub() with its hints is scrub() running every pattern, on texts made to be close."""
    import lmdoctor.redact as redact

    text = "".join(parts)
    every = [(category, pattern, ("",)) for category, pattern, _ in redact._PATTERNS]
    with_hints = [scrub(text), scrub(text, laid_out=True)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(redact, "_PATTERNS", every)
        assert [scrub(text), scrub(text, laid_out=True)] == with_hints


def test_each_pattern_holds_one_of_its_hints() -> None:
    """A hint that a pattern's matches do not contain would skip that pattern wrongly."""
    import re

    import lmdoctor.redact as redact

    for text, _ in SCRUBBED:
        for category, pattern, hints in redact._PATTERNS:
            for found in re.finditer(pattern, text):
                assert any(h in found[0].lower() for h in hints), (category, found[0])
