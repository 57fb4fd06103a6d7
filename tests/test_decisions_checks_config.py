"""The config check (checks/config.py): what it says about an endpoint it does not probe.

Verdicts asserted through public interfaces (config.load → the installed checks, --only
config: no traffic), each written to kill a mutant that survived tools/mutation.py."""

from __future__ import annotations

from pathlib import Path

from conftest import diagnose
from lmdoctor.config import picoclaw, replay
from lmdoctor.findings import Severity

CASES = Path(__file__).parent / "conformance" / "picoclaw" / "cases"


def _targets(case: str):
    config = picoclaw.load(CASES / case / "config.json", {}, version=replay.NEWEST)
    return [t for t in config.select() if t.is_endpoint]


def test_a_messages_endpoint_is_described_with_its_key_header_and_url():
    (target,) = _targets("24-anthropic-messages-local")
    (finding,) = diagnose(target, only=("config",))
    assert finding.code == "config.not_probed" and finding.severity is Severity.INFO
    assert finding.detail.startswith(
        "PicoClaw will send POST http://127.0.0.1:8082/v1/messages with model "
        "claude-sonnet-4-6 (key in X-API-Key). lmdoctor probes OpenAI-compatible endpoints only"
    )
    # the URL the client posts to, not the api_base the entry names (…/v1)
    assert finding.evidence["url"] == "http://127.0.0.1:8082/v1/messages"
    assert target.api_base != finding.evidence["url"]


def test_an_endpoint_without_a_request_is_described_by_its_provider_and_base():
    # "elevenlabs" is no protocol PicoClaw knows: no client, so no replayed request
    (target,) = _targets("29-elevenlabs-unknown-protocol")
    assert target.request is None
    (finding,) = diagnose(target, only=("config",))
    assert finding.code == "config.not_probed"
    assert finding.detail.startswith("elevenlabs at https://api.elevenlabs.io. lmdoctor probes")
    assert finding.evidence == {"protocol": "unknown", "url": "https://api.elevenlabs.io"}
