"""The wallet page in a real browser (Playwright driving Debian's chromium) against the
devnet: the page, the portal, both chains, the contracts and the five relayers are real;
only the wallet is a test double (tests/e2e/devnet_wallet.py), which signs with a devnet key
and forwards every other call to the real nodes.

Chromium or Playwright missing fails the test (no skip). Set ``RELAYER_SCREENSHOTS=DIR`` to
keep the screenshots there (docs/images/ holds the ones docs/portal.md shows).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from bridge_client import lock, token, wait_executed
from devnet_wallet import DevnetWallet
from eth_account import Account
from eth_account.signers.local import LocalAccount
from playwright.sync_api import Browser, Page, expect, sync_playwright
from web3 import Web3

from relayer.chain import transactions
from relayer.devnet.portal import DevnetPortal, start_portal
from relayer.devnet.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

CHROMIUM = "/usr/bin/chromium"
PAGE_FILE = Path(__file__).resolve().parents[2] / "relayer" / "portal" / "static" / "app.js"
# a transfer takes seconds here; on a loaded 2-core machine (two CI runs) it may take a minute
TRANSFER_TIMEOUT_MS = 180_000
EXPECT_TIMEOUT_MS = 30_000
FUNDS = {"AxHKD": 10_000 * 10**6, "CFXT": 1_000 * 10**18}


@pytest.fixture(scope="module")
def portal(bridge: Stack) -> Iterator[DevnetPortal]:
    if not PAGE_FILE.is_file():
        pytest.fail(f"{PAGE_FILE} is missing: `make build` bundles the wallet page")
    running = start_portal(bridge)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: `make install` installs Debian's chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


def _fresh_user(bridge: Stack) -> LocalAccount:
    """A new account with gas on both chains and AxHKD and CFXT on Conflux eSpace."""
    assert bridge.w3c and bridge.anvil
    user: LocalAccount = Account.create()
    giver = bridge.users[2]
    bridge.anvil_rpc("anvil_setBalance", [user.address, hex(10**21)])
    for symbol, amount in FUNDS.items():
        erc20 = transactions.contract_at(bridge.w3c, "TestToken", token(bridge, symbol).conflux)
        transactions.send(bridge.w3c, giver, erc20.functions.transfer(user.address, amount))
    gas = {
        "to": user.address,
        "value": 10 * 10**18,
        "from": giver.address,
        "nonce": bridge.w3c.eth.get_transaction_count(giver.address, "pending"),
        "chainId": bridge.w3c.eth.chain_id,
        "gas": 21_000,
        **transactions.explicit_fees(bridge.w3c),
    }
    signed = giver.sign_transaction(gas)
    bridge.w3c.eth.wait_for_transaction_receipt(
        bridge.w3c.eth.send_raw_transaction(signed.raw_transaction), timeout=60
    )
    return user


def _nodes(bridge: Stack) -> dict[int, Web3]:
    assert bridge.w3c and bridge.w3e and bridge.conflux and bridge.anvil
    return {bridge.conflux.chain_id: bridge.w3c, bridge.anvil.chain_id: bridge.w3e}


def _open(browser: Browser, portal: DevnetPortal, wallet: DevnetWallet, **context: object) -> Page:
    page = browser.new_context(locale="en-GB", **context).new_page()
    page.set_default_timeout(EXPECT_TIMEOUT_MS)
    wallet.install(page)
    page.goto(portal.url + "/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    return page


def _connect(page: Page) -> None:
    page.click("#connect")
    expect(page.locator("#account")).to_be_visible()


def _balance(bridge: Stack, chain: str, symbol: str, holder: str) -> int:
    info = token(bridge, symbol)
    w3 = bridge.w3c if chain == "conflux" else bridge.w3e
    assert w3
    address = info.conflux if chain == "conflux" else info.ethereum
    erc20 = transactions.contract_at(w3, "TestToken", address)
    return int(erc20.functions.balanceOf(holder).call())


def _shot(page: Page, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / name), full_page=True)
    keep = os.environ.get("RELAYER_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / name, Path(keep) / name)


def _pick(page: Page, symbol: str) -> None:
    option = page.locator("#token option", has_text=re.compile(rf"^{symbol} \("))
    expect(option).to_have_count(1)
    page.select_option("#token", value=option.get_attribute("value"))


def _ready(
    bridge: Stack, portal: DevnetPortal, browser: Browser, symbol: str
) -> tuple[Page, DevnetWallet, LocalAccount]:
    """A fresh funded user's wallet on Conflux eSpace, connected, with ``symbol`` picked."""
    assert bridge.conflux
    user = _fresh_user(bridge)
    wallet = DevnetWallet(_nodes(bridge), user, bridge.conflux.chain_id)
    page = _open(browser, portal, wallet)
    _connect(page)
    _pick(page, symbol)
    return page, wallet, user


def _wait_released(page: Page) -> None:
    expect(page.locator("#follow-state")).to_have_attribute(
        "data-state", "released", timeout=TRANSFER_TIMEOUT_MS
    )


def test_a_lock_of_axhkd_arrives_exactly_and_shows_its_progress(
    bridge: Stack, portal: DevnetPortal, browser: Browser, tmp_path: Path
) -> None:
    assert bridge.conflux
    user = _fresh_user(bridge)
    recipient = Account.create().address
    wallet = DevnetWallet(_nodes(bridge), user, bridge.conflux.chain_id)
    page = _open(browser, portal, wallet)
    _connect(page)
    _pick(page, "AxHKD")
    expect(page.locator("#balance")).to_contain_text("10,000 AxHKD")
    page.fill("#recipient", recipient)
    # keyboard only: type the amount, then Enter submits the form
    page.focus("#amount")
    page.keyboard.type("123.456789")
    expect(page.locator("#send")).to_be_enabled()
    expect(page.locator("#send")).to_have_text("Approve and bridge")
    _shot(page, tmp_path, "portal-form.png")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#/transfer/0x[0-9a-f]{64}$"))
    expect(page.locator("#follow-confirmations")).to_be_visible(timeout=TRANSFER_TIMEOUT_MS)
    _wait_released(page)
    amount = 123_456_789
    assert _balance(bridge, "ethereum", "AxHKD", recipient) == amount
    expect(page.locator("#follow-balance")).to_have_attribute("data-raw", str(amount))
    expect(page.locator("#follow-balance")).to_contain_text("123.456789 bAxHKD")
    expect(page.locator("#follow-release")).to_be_visible()
    attestations = page.locator("#follow-attestations li[data-jurisdiction]")
    assert attestations.count() >= 2  # the quorum spans at least two jurisdictions
    expect(page.locator("#follow-quorum")).to_be_visible()
    # the approval was exactly the amount, and the vault used it all
    erc20 = transactions.contract_at(bridge.w3c, "TestToken", token(bridge, "AxHKD").conflux)
    assert erc20.functions.allowance(user.address, bridge.vault.address).call() == 0  # type: ignore[union-attr]
    assert wallet.forbidden == []
    row = page.locator("#history-rows tr[data-state=released]")
    expect(row).to_have_count(1)
    _shot(page, tmp_path, "portal-released.png")


def test_an_18_decimal_token_arrives_exactly_after_a_reload_mid_transfer(
    bridge: Stack, portal: DevnetPortal, browser: Browser
) -> None:
    page, _wallet, user = _ready(bridge, portal, browser, "CFXT")
    page.fill("#amount", "2.000000000000000003")  # a float would lose the last digit
    expect(page.locator("#send")).to_be_enabled()
    page.click("#send")
    expect(page).to_have_url(re.compile(r"#/transfer/0x[0-9a-f]{64}$"))
    followed = page.url
    page.reload()  # mid-transfer: the page resumes from the URL, the status API and the chain
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    assert page.url == followed
    expect(page.locator("#follow")).to_be_visible()
    _wait_released(page)
    assert _balance(bridge, "ethereum", "CFXT", user.address) == 2 * 10**18 + 3
    expect(page.locator("#follow-balance")).to_have_attribute("data-raw", str(2 * 10**18 + 3))


def test_the_way_back_burns_on_ethereum_after_switching_networks(
    bridge: Stack, portal: DevnetPortal, browser: Browser, tmp_path: Path
) -> None:
    assert bridge.conflux and bridge.anvil
    user = _fresh_user(bridge)
    wait_executed(bridge, lock(bridge, user, "AxHKD", 5_000_000, user.address))
    before = _balance(bridge, "conflux", "AxHKD", user.address)
    # the wallet starts on Conflux eSpace and has never seen the devnet's Ethereum
    wallet = DevnetWallet(_nodes(bridge), user, bridge.conflux.chain_id)
    page = _open(browser, portal, wallet)
    _connect(page)
    eth = next(i for i, c in enumerate(portal_chains(page)) if c == bridge.anvil.chain_id)
    page.select_option("#direction", value=str(eth))
    expect(page.locator("#network")).to_be_visible()
    expect(page.locator("#network")).to_contain_text("This transfer starts on Ethereum (devnet)")
    expect(page.locator("#send")).to_be_disabled()
    _shot(page, tmp_path, "portal-wrong-network.png")
    page.click("#switch-network")  # unknown to the wallet: added, then switched
    expect(page.locator("#network")).to_be_hidden()
    added = page.evaluate("window.__addedChains.map((c) => Number(c.chainId))")
    assert added == [bridge.anvil.chain_id]
    _pick(page, "bAxHKD")
    expect(page.locator("#balance")).to_contain_text("5 bAxHKD")
    page.fill("#amount", "4.5")
    expect(page.locator("#send")).to_have_text("Bridge")  # a burn needs no approval
    page.click("#send")
    _wait_released(page)
    assert _balance(bridge, "conflux", "AxHKD", user.address) == before + 4_500_000
    assert _balance(bridge, "ethereum", "AxHKD", user.address) == 500_000
    expect(page.locator("#follow-balance")).to_have_attribute("data-raw", str(before + 4_500_000))


def portal_chains(page: Page) -> list[int]:
    return [
        int(c)
        for c in page.evaluate(
            "fetch('/v1/config').then(r => r.json()).then(c => c.chains.map(x => x.chain_id))"
        )
    ]


def test_a_transfer_above_the_governors_limit_is_announced_and_shown_delayed(
    bridge: Stack, portal: DevnetPortal, browser: Browser, tmp_path: Path
) -> None:
    page, _wallet, user = _ready(bridge, portal, browser, "AxHKD")
    page.fill("#amount", "600")  # the devnet's large-transfer threshold is 500 AxHKD
    expect(page.locator("#notice")).to_contain_text("it will be released about")
    expect(page.locator("#notice")).to_contain_text(f"{bridge.options.delay_s} seconds")
    page.click("#send")
    expect(page.locator("#follow-delayed")).to_be_visible(timeout=TRANSFER_TIMEOUT_MS)
    expect(page.locator("#follow-delayed")).to_contain_text("executable at")
    _shot(page, tmp_path, "portal-delayed.png")
    _wait_released(page)
    assert _balance(bridge, "ethereum", "AxHKD", user.address) == 600 * 10**6


def test_errors_are_explained_before_anything_is_sent(
    bridge: Stack, portal: DevnetPortal, browser: Browser
) -> None:
    page, wallet, _user = _ready(bridge, portal, browser, "AxHKD")
    error = page.locator("#form-error")
    page.fill("#amount", "10000.000001")
    expect(error).to_have_text("Insufficient balance: you have 10,000 AxHKD.")
    expect(page.locator("#send")).to_be_disabled()
    page.fill("#amount", "2000000000000000000000000")  # the devnet packs allow 10**30 units
    expect(error).to_contain_text(
        "Above the validators' maximum of 1,000,000,000,000,000,000,000,000 AxHKD per transfer."
    )
    page.fill("#amount", "1.0000001")
    expect(error).to_contain_text("AxHKD has 6 decimals: enter at most 6 digits after the point.")
    page.fill("#amount", "1e3")
    expect(error).to_contain_text("Enter the amount as digits")
    page.fill("#amount", "2")
    page.fill("#recipient", "0x" + "aB" * 20)  # mixed case with a wrong checksum
    expect(error).to_contain_text("The recipient is not a valid address")
    page.fill("#recipient", "")
    expect(error).to_be_hidden()
    # a rejected signature: nothing is sent, the page says so and stays usable
    wallet.reject_next = True
    page.click("#send")
    expect(error).to_have_text("You rejected the request in your wallet. Nothing was sent.")
    assert wallet.sent == []
    expect(page.locator("#send")).to_be_enabled()
    assert wallet.forbidden == []


def test_the_page_in_traditional_chinese_on_a_phone(
    bridge: Stack, portal: DevnetPortal, browser: Browser, tmp_path: Path
) -> None:
    assert bridge.conflux and bridge.anvil
    user = _fresh_user(bridge)
    # the wallet is on Ethereum: the page offers to switch to Conflux eSpace
    wallet = DevnetWallet(
        _nodes(bridge),
        user,
        bridge.anvil.chain_id,
        (bridge.anvil.chain_id, bridge.conflux.chain_id),
    )
    page = _open(
        browser,
        portal,
        wallet,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    page.select_option("#lang", "zh-HK")
    expect(page.locator("html")).to_have_attribute("lang", "zh-HK")
    expect(page.locator("h1")).to_have_text("Conflux eSpace ⇄ 以太坊 跨鏈橋")
    _connect(page)
    expect(page.locator("#network")).to_contain_text("此轉賬須由 Conflux eSpace (devnet) 開始")
    page.click("#switch-network")
    expect(page.locator("#network")).to_be_hidden()
    _pick(page, "AxHKD")
    expect(page.locator("#balance")).to_have_text("餘額：10,000 AxHKD")
    page.fill("#amount", "20000")
    expect(page.locator("#form-error")).to_have_text("餘額不足：你有 10,000 AxHKD。")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    _shot(page, tmp_path, "portal-zh-hk-phone.png")
    page.reload()  # the choice of language is kept
    expect(page.locator("h1")).to_have_text("Conflux eSpace ⇄ 以太坊 跨鏈橋")
