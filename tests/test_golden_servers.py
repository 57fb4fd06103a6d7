"""`check --format json` and `scan` on every fake stay byte-identical (tests/golden/servers/).

A change here means lmdoctor says something else about a server: if intended, re-record with
`python tests/golden_servers.py --write` and review the diff.
"""

from __future__ import annotations

import pytest

import golden_servers


@pytest.mark.parametrize("case", golden_servers.CASES, ids=lambda c: c[0])
def test_check_json_matches_golden(case: golden_servers.Case) -> None:
    expected = (golden_servers.GOLDEN / f"{case[0]}.json").read_text(encoding="utf-8")
    assert golden_servers.check_output(case) == expected


def test_scan_json_matches_golden() -> None:
    expected = (golden_servers.GOLDEN / "scan.json").read_text(encoding="utf-8")
    assert golden_servers.scan_output() == expected
