"""Redaction decisions (lmdoctor/redact.py): what is masked, what is kept, what is counted.

Asserted through the public functions every renderer uses (scrub, scrub_data, scrub_evidence,
target_fields, proxy_display, home_to_tilde, HostMasker), each written to kill a mutant that
survived tools/mutation.py: a leaked key or an over-masked diagnosis must fail a test."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from lmdoctor.redact import (
    HostMasker,
    home_to_tilde,
    proxy_display,
    remember_url,
    scrub,
    scrub_data,
    scrub_evidence,
    target_fields,
    url_has_credentials,
)
from lmdoctor.secret import MASK, remember
from lmdoctor.target import Target


def test_a_known_value_of_eight_characters_is_masked_inside_words_seven_only_whole():
    remember("Qa8char8")  # 8: long enough to mask wherever it appears
    assert scrub("xQa8char8x") == f"x{MASK}x"
    remember("Qb7chr7")  # 7: only as a whole word ("abc" must not eat "abcde")
    assert scrub("xQb7chr7x") == "xQb7chr7x"
    assert scrub("a Qb7chr7 b") == f"a {MASK} b"


def test_a_windows_home_becomes_tilde_in_any_slash_and_case_but_not_a_longer_name():
    home = "C:\\Users\\ann"
    text = (
        'C:\\Users\\ann\\.picoclaw\\config.json, C:/Users/Ann/x, "c:\\\\users\\\\ann", '
        "C:\\Users\\annie"
    )
    assert home_to_tilde(text, home) == '~\\.picoclaw\\config.json, ~/x, "~", C:\\Users\\annie'
    assert home_to_tilde("C:\\Users\\ann", home + "\\") == "~"


def test_a_unc_home_becomes_tilde_only_with_its_two_leading_slashes():
    home = "\\\\srv\\home\\ann"
    text = "\\\\srv\\home\\ann\\.picoclaw and //srv/home/ann/x and C:\\srv\\home\\ann"
    assert home_to_tilde(text, home) == "~\\.picoclaw and ~/x and C:\\srv\\home\\ann"


def test_hosts_under_url_keys_are_collected_with_or_without_a_scheme():
    masker = HostMasker()
    masker.collect({"api_base": "gpu.lan:8080/v1", "proxy": "http://corp-proxy:3128"})
    assert masker.labels == {"gpu.lan": "host-1", "corp-proxy": "host-2"}
    assert masker.mask("gpu.lan:8080 and corp-proxy") == "host-1:8080 and host-2"


def test_a_known_value_inside_a_longer_known_value_leaves_nothing_of_the_longer():
    # longest first: replacing the shorter one first would leave "…34" of the longer
    remember("Nest-value-abc12")
    remember("Nest-value-abc1234")
    assert scrub("k=Nest-value-abc1234;") == f"k={MASK};"


def test_known_values_are_counted_once_per_occurrence():
    remember("Counted-value-77")
    counts: Counter[str] = Counter()
    assert scrub("Counted-value-77 and Counted-value-77", counts) == f"{MASK} and {MASK}"
    assert counts == {"configured key": 2}
    counts.clear()
    remember("cv77")  # a short one: whole words only, counted the same way
    assert scrub("cv77, cv77x", counts) == f"{MASK}, cv77x"
    assert counts == {"configured key": 1}


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        # prose "name: value": a secret only when the value looks like one
        ("api_key: abcdefghijklmnop", True),  # 16 characters
        ("api_key: abcdefghijklmno", False),  # 15 letters: a word
        ("api_key: abcd12", True),  # 6 with a digit
        ("api_key: abc12", False),  # 5
        ("api_key: abcdef", False),  # 6 letters, no digit or symbol
        ("api_key: abc-de", True),  # 6 with a symbol
        ("api_key: abcdefghijklmnopqrst.", False),  # the end of a sentence
        ("api_key: abcdefghijklmnopqrst:", False),
        ("api_key: model_list(abcdefghijklmnop)", False),  # a reference, not a value
        # "=" or quotes make it a value whatever it looks like
        ("password=abcdef", True),
        ('"password": "abcdef"', True),
        ("password: 'abcdef'", True),
    ],
)
def test_a_secret_field_in_prose_is_masked_only_when_it_looks_like_a_credential(text, masked):
    shown = scrub(text)
    assert (shown != text) is masked, shown
    if masked:
        assert MASK in shown and shown.split(MASK)[0] in text


def test_each_category_is_counted_and_url_credentials_keep_their_at_sign():
    counts: Counter[str] = Counter()
    shown = scrub('http://u:p@h/x {"password": "abcdef"} sk-abcdefgh12345678', counts)
    assert shown == f'http://{MASK}@h/x {{"password": "{MASK}"}} {MASK}'
    assert counts == {"URL credentials": 1, "secret field": 1, "key-shaped string": 1}


def test_laid_out_text_loses_tokens_but_keeps_prose_fields():
    text = "│ password: abc-de │ sk-abcdefgh12345678 │"
    assert scrub(text, laid_out=True) == f"│ password: abc-de │ {MASK} │"
    # every token category after the prose ones still applies
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlX18"
    text = f"│ Authorization: opaque1 │ {jwt} │ http://u:pw@h/x?token=abc123 │"
    assert scrub(text, laid_out=True) == (
        f"│ Authorization: opaque1 │ {MASK} │ http://{MASK}@h/x?token={MASK} │"
    )
    assert scrub("") == "" and scrub("", laid_out=True) == ""


def test_evidence_masks_credential_named_values_unless_empty_and_counts_them():
    counts: Counter[str] = Counter()
    shown = scrub_evidence(
        {"token": "", "password": [], "cookie": {}, "api_key": 0, "secret": "v",
         "items": ("a", "b"), 7: "seven"},
        counts,
    )
    assert shown == {"token": "", "password": [], "cookie": {}, "api_key": MASK, "secret": MASK,
                     "items": ["a", "b"], 7: "seven"}
    assert counts == {"secret field": 2}
    # plain data is never masked by name: a source names where a key lives
    assert scrub_data({"secret": "v"}) == {"secret": "v"}


def test_a_url_s_credentials_are_remembered_so_an_echo_is_scrubbed_too():
    remember_url("http://bob-user:pw-12345678@h/x?api_key=zzz98765&page=2")
    assert scrub("echo bob-user pw-12345678 zzz98765 page 2") == (
        f"echo {MASK} {MASK} {MASK} page 2"
    )
    remember_url("http://bob-user2:pass@word-123@h/x")  # a password holding "@"
    assert scrub("echo pass@word-123 now") == f"echo {MASK} now"
    remember_url("http://carol-user:pw:with-colon-9@h/x")  # only the first ":" splits
    assert scrub("echo pw:with-colon-9 now") == f"echo {MASK} now"
    remember_url("http://h/x?page=plainvalue")  # not credential-named: not remembered
    assert scrub("plainvalue") == "plainvalue"


@pytest.mark.parametrize(
    ("value", "shown", "credentials"),
    [
        ("  http://proxy.corp:3128  ", "http://proxy.corp:3128", False),
        ("http://proxy.corp:99999", "http://proxy.corp", False),  # no valid port: none shown
        ("http://proxy.corp", "http://proxy.corp", False),
        ("   ", "", False),
        ("user:pw@proxy.corp:8080", "http://proxy.corp:8080", True),
    ],
)
def test_a_proxy_is_shown_as_scheme_host_port_only(value, shown, credentials):
    assert proxy_display(value) == (shown, credentials)


def test_target_fields_of_a_file_target_name_no_provider_and_empty_fields_are_none():
    path = Path("/srv/picoclaw/config.json")
    facts = target_fields(
        Target("config.json", kind="file", provider="openai", api_base="", config_path=path)
    )
    assert facts["config_file"] == str(path)
    assert facts["provider"] is None and facts["api_base"] is None
    assert facts["model"] is None and facts["api_key"] is None and facts["proxy"] is None
    assert facts["context_window"] is None and facts["request"] is None
    assert facts["model_id"] is None and facts["entry"] is None
    endpoint = target_fields(Target("t", provider="openai", api_base="http://h:1/v1",
                                    model_id="m-id", entry="model_list[0]"))
    assert endpoint["model_id"] == "m-id" and endpoint["entry"] == "model_list[0]"
    assert endpoint["provider"] == "openai" and endpoint["api_base"] == "http://h:1/v1"
    assert endpoint["config_file"] is None  # from the command line: no file


def test_a_credential_named_query_parameter_counts_even_when_empty():
    # conservative: "?api_key=" still says where a key goes, so the URL is shown as carrying one
    assert url_has_credentials("http://h/v1?api_key=")
    assert proxy_display("http://proxy.corp:3128/?token=") == ("http://proxy.corp:3128", True)
    assert not url_has_credentials("http://h/v1?page=")
