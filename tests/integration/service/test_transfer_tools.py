"""``relayer transfer retry`` and ``relayer transfer bundle`` on a real (SQLite) store: the
retry re-arms the transfer's effects through ``RetryRequested`` (``domain.step``) in one
transaction; the bundle is the stored quorum, sent with the submitter's own encoder."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
from lone_validator import (
    CFX,
    ETH,
    GATEWAY,
    KEY,
    MIRROR,
    UNROUTED_TOKEN,
    VAULT,
    lone_event,
    lone_processor,
)

from relayer.api.metrics import Metrics
from relayer.chain.bridge import release_calldata
from relayer.cli import main
from relayer.domain.routing import build_release
from relayer.domain.transfer import ReleaseConfirmed
from relayer.domain.types import Direction, Hash32, SourceEvent, ValidatorSet, checksum, hex32
from relayer.keys import signer_from_hex
from relayer.store import EffectKind, Store, TransferStatus

CONFIG = """
[validator]
name = "hk-1"
jurisdiction = "HK"
dev_private_key = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"

[conflux]
rpc_url = "http://127.0.0.1:9"
chain_id = {cfx}
vault = "0x{vault}"

[ethereum]
rpc_url = "http://127.0.0.1:9"
chain_id = {eth}
gateway = "0x{gateway}"

[database]
url = "{url}"
"""
CAST = Path(__file__).parents[3] / "contracts" / "node_modules" / ".bin" / "cast"
SIGNED = lone_event(7 * 10**6 + 1)
RELEASED = lone_event(7 * 10**6 + 2)
REFUSED = lone_event(7 * 10**6 + 3, UNROUTED_TOKEN)


def _tid(event: SourceEvent) -> str:
    return hex32(event.transfer_id)


@pytest.fixture
def relayer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    """A store where SIGNED has a quorum (its effects done, as if lost), RELEASED is
    released and REFUSED refused; and the settings file naming it."""
    for name in [n for n in os.environ if n.startswith("RELAYER_")]:
        monkeypatch.delenv(name)
    url = f"sqlite+aiosqlite:///{tmp_path / 'relayer.db'}"

    async def setup() -> None:
        store = await Store.open(url, migrate_schema=True)
        try:
            p = lone_processor(store, Metrics())  # alone: our signature is the quorum
            async with p.writer.transaction() as tx:
                events = [SIGNED, RELEASED, REFUSED]
                await tx.record_scan(CFX, VAULT, Direction.TO_ETHEREUM, events, 1000)
            await p.sweep()
            async with p.writer.transaction() as tx:
                tid = RELEASED.transfer_id
                await p.apply(tx, tid, ReleaseConfirmed(tid, Hash32(b"\x99" * 32)))
                for effect in await tx.pending_effects():
                    await tx.mark_effect_done(effect.id)
        finally:
            await store.close()

    asyncio.run(setup())
    config = tmp_path / "relayer.toml"
    text = CONFIG.format(cfx=CFX, eth=ETH, vault=VAULT.hex(), gateway=GATEWAY.hex(), url=url)
    config.write_text(text)
    return config, url


def _pending(url: str) -> dict[tuple[str, EffectKind], dict[str, Any]]:
    async def go() -> dict[tuple[str, EffectKind], dict[str, Any]]:
        store = await Store.open(url)
        try:
            async with store.reader() as tx:
                return {
                    (hex32(e.transfer_id), e.kind): e.payload for e in await tx.pending_effects()
                }
        finally:
            await store.close()

    return asyncio.run(go())


def _stored(url: str, event: SourceEvent) -> tuple[TransferStatus, bytes | None]:
    async def go() -> tuple[TransferStatus, bytes | None]:
        store = await Store.open(url)
        try:
            async with store.reader() as tx:
                rec = await tx.get_transfer(event.transfer_id)
        finally:
            await store.close()
        assert rec is not None
        return rec.status, rec.quorum_bundle

    return asyncio.run(go())


def test_retry_rearms_the_release_and_the_publication_of_a_quorum_transfer(
    relayer: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    config, url = relayer
    assert _pending(url) == {}
    status, bundle = _stored(url, SIGNED)
    assert status is TransferStatus.QUORUM and bundle is not None
    assert main(["transfer", "retry", _tid(SIGNED), "--config", str(config)]) == 0
    line = json.loads(capsys.readouterr().out)
    assert line["status"] == "quorum"
    assert line["queued"] == {
        "PublishAttestation": "EffectEnqueued",
        "SubmitRelease": "EffectEnqueued",
    }
    pending = _pending(url)
    assert set(pending) == {(_tid(SIGNED), EffectKind.PUBLISH), (_tid(SIGNED), EffectKind.SUBMIT)}
    submit = pending[(_tid(SIGNED), EffectKind.SUBMIT)]
    assert submit["bundle"] == "0x" + bundle.hex() and submit["dst_chain_id"] == ETH
    assert _stored(url, SIGNED) == (status, bundle)  # the state did not change
    # again: already queued, nothing new
    assert main(["transfer", "retry", _tid(SIGNED), "--config", str(config)]) == 0
    again = json.loads(capsys.readouterr().out)
    assert set(again["queued"].values()) == {"EffectAlreadyPending"}
    assert _pending(url) == pending


def test_retry_of_a_released_or_refused_transfer_says_why_and_exits_1(
    relayer: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    config, url = relayer
    for event, why in ((RELEASED, "already released"), (REFUSED, "refused by this validator")):
        assert main(["transfer", "retry", _tid(event), "--config", str(config)]) == 1
        out = capsys.readouterr().out
        assert why in out and _tid(event) in out, out
    assert _pending(url) == {}


def test_retry_and_bundle_with_a_bad_or_unknown_id_exit_2_naming_it(
    relayer: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    config, _ = relayer
    for action in ("retry", "bundle"):
        assert main(["transfer", action, "0x1234", "--config", str(config)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("relayer: error: TRANSFER_ID") and "\n" not in err, err
        unknown = "0x" + "ab" * 32
        assert main(["transfer", action, unknown, "--config", str(config)]) == 2
        err = capsys.readouterr().err.strip()
        assert f"no transfer {unknown}" in err and "\n" not in err, err


def test_bundle_prints_the_stored_quorum_with_the_submitters_calldata_and_a_cast_line(
    relayer: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    config, url = relayer
    _, bundle = _stored(url, SIGNED)
    assert bundle is not None
    assert main(["transfer", "bundle", _tid(SIGNED), "--config", str(config), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    release = build_release(SIGNED, MIRROR)
    assert out["bundle"]["signatures"] == "0x" + bundle.hex()
    assert out["calldata"] == "0x" + release_calldata("release", release, bundle).hex()
    assert out["destination"]["chain_id"] == ETH
    assert out["release"]["amount"] == str(SIGNED.amount)
    # the cast line encodes the same call (cast's own encoder, independent of ours)
    words = out["cast"].split(" --rpc-url")[0]
    argv = [str(CAST), "calldata", *shlex.split(words)[3:]]
    encoded = subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()
    assert encoded == out["calldata"]
    assert main(["transfer", "bundle", _tid(SIGNED), "--config", str(config)]) == 0
    text = capsys.readouterr().out
    assert "cast send" in text and out["calldata"] in text


def test_bundle_without_a_quorum_names_the_missing_signatures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in [n for n in os.environ if n.startswith("RELAYER_")]:
        monkeypatch.delenv(name)
    url = f"sqlite+aiosqlite:///{tmp_path / 'relayer.db'}"
    peer = signer_from_hex("0x" + "47" * 32)
    holder: dict[str, ValidatorSet] = {}

    async def setup() -> None:
        store = await Store.open(url, migrate_schema=True)
        try:
            p = lone_processor(store, Metrics(), peers=[peer], threshold=2)
            holder["set"] = p.sets.current[ETH]
            async with p.writer.transaction() as tx:
                await tx.record_scan(CFX, VAULT, Direction.TO_ETHEREUM, [SIGNED], 1000)
            await p.sweep()
        finally:
            await store.close()

    asyncio.run(setup())
    assert _stored(url, SIGNED)[0] is TransferStatus.ATTESTED

    async def sets_of(_dst: object) -> tuple[ValidatorSet, ...]:
        return (holder["set"],)

    monkeypatch.setattr("relayer.cli_transfer._sets_of", sets_of)
    config = tmp_path / "relayer.toml"
    text = CONFIG.format(cfx=CFX, eth=ETH, vault=VAULT.hex(), gateway=GATEWAY.hex(), url=url)
    config.write_text(text)
    assert main(["transfer", "bundle", _tid(SIGNED), "--config", str(config), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    (vset,) = out["sets"]
    assert vset["short"] == "below_threshold: 1 of 2"
    assert [m["validator"] for m in vset["missing"]] == [checksum(peer.address)]
    assert vset["signed"] == [checksum(signer_from_hex(KEY).address)]
    assert out["quorum"] is None
