"""docs/supervision.md's example pack is a pack the relayer reads, with what it says."""

from __future__ import annotations

import re
from pathlib import Path

from relayer.domain.packs import parse_pack

DOC = Path(__file__).resolve().parents[2] / "docs" / "supervision.md"


def test_the_documented_example_pack_parses_as_documented() -> None:
    blocks = re.findall(r"```toml\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    assert len(blocks) == 1, "docs/supervision.md should hold one example pack"
    pack = parse_pack(blocks[0].encode())
    assert (pack.jurisdiction, pack.version) == ("HK", 7)
    ((chain_id, _token), rules), *_ = pack.tokens.items()
    assert chain_id == 1030 and len(pack.tokens) == 1
    assert rules.max_per_transfer == 10**12 and rules.review_above == 2 * 10**11
    assert rules.max_per_sender_24h == 5 * 10**12 and rules.max_total_24h == 10**14
    assert len(pack.sanctions.addresses) == 1
