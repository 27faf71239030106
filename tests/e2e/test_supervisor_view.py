"""The supervisor's view in a real browser (Playwright driving Debian's chromium) against the
devnet: a supervisor signs in with its token, sees a transfer, another validator's refusal
of it, volumes against the pack's limits, a freeze of the mirror and this validator's audit
status; a supervisor of another jurisdiction gets the error naming the jurisdiction.

Chromium or Playwright missing fails the test (no skip). Set ``RELAYER_SCREENSHOTS=DIR``
to keep the screenshots there (docs/images/ holds the ones docs/supervision.md shows).
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from bridge_client import DENIED_BY_ONE, lock, token, wait_executed, wait_until
from eth_utils.address import to_checksum_address
from playwright.sync_api import Page, expect, sync_playwright

from relayer.chain import transactions
from relayer.devnet.stack import Stack
from relayer.devnet.supervisors import dev_token

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

CHROMIUM = "/usr/bin/chromium"
# the page's sections answer in well under a second here; on a loaded 2-core machine (two CI
# runs, five relayers, two chains) an audit verification or a freeze scan may take seconds
EXPECT_TIMEOUT_MS = 30_000
FROZEN_HOLDER = to_checksum_address("0x" + "00" * 16 + "f00df00d")


def _api(url: str, path: str, bearer: str) -> Any:
    request = urllib.request.Request(  # noqa: S310 - a loopback devnet URL
        url.removesuffix("/") + "/api" + path, headers={"Authorization": f"Bearer {bearer}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.loads(response.read())


def _shot(page: Page, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / name), full_page=True)
    keep = os.environ.get("RELAYER_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / name, Path(keep) / name)


def _sign_in(page: Page, bearer: str) -> None:
    page.fill("#token", bearer)
    page.click("#sign-in")


def test_a_supervisor_reads_its_jurisdiction_in_the_browser(bridge: Stack, tmp_path: Path) -> None:
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: `make install` installs Debian's chromium")
    assert bridge.w3e is not None and bridge.deployer_e is not None
    # an SG validator that signs (validator 4, also SG, refuses DENIED_BY_ONE)
    viewer = next(v for v in bridge.validators if v.jurisdiction == "SG" and v.index != 4)
    refuser = bridge.validators[4]
    assert refuser.jurisdiction == "SG"
    sg, hk = dev_token("SG"), dev_token("HK")

    sent = lock(bridge, bridge.users[2], "CFXT", 3 * 10**18, DENIED_BY_ONE)
    wait_executed(bridge, sent)
    tid = "0x" + sent.transfer_id.hex()
    mirror = transactions.contract_at(bridge.w3e, "MirroredToken", token(bridge, "AxHKD").ethereum)
    transactions.send(bridge.w3e, bridge.deployer_e, mirror.functions.freeze(FROZEN_HOLDER))

    def refusal_seen() -> bool:  # the refuser's signed refusal reached the viewer
        refusals = _api(viewer.supervisor_url, "/refusals", sg)["refusals"]
        return any(r["transfer_id"] == tid and r["validator"] == refuser.address for r in refusals)

    wait_until(refusal_seen, timeout=90)
    wait_until(
        lambda: any(
            t["transfer_id"] == tid and t["status"] == "released"
            for t in _api(viewer.supervisor_url, "/transfers", sg)["transfers"]
        ),
        timeout=90,
    )

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(viewer.supervisor_url)
            expect(page.locator("#login")).to_be_visible()
            _shot(page, tmp_path, "supervisor-sign-in.png")

            _sign_in(page, "not-a-token")
            expect(page.locator("#error")).to_have_text("401: unknown token")

            _sign_in(page, sg)
            expect(page.locator("#whoami")).to_contain_text("devnet-SG")
            expect(page.locator("#whoami")).to_contain_text("scope: SG")
            expect(page.locator(f'#transfers a[data-id="{tid}"]')).to_be_visible()
            row = page.locator("#refusals tr", has=page.locator(f'a[data-id="{tid}"]'))
            expect(row).to_contain_text("recipient_denied")
            expect(row).to_contain_text("SG")
            expect(page.locator("#volumes")).to_contain_text("CFXT")
            expect(page.locator("#volumes-pack")).to_contain_text("SG policy pack v1")
            expect(page.locator("#audit")).to_contain_text("Audit chain intact")
            expect(page.locator("#freezes")).to_contain_text(FROZEN_HOLDER)
            expect(page.locator("#alerts-error")).to_be_hidden()
            assert page.evaluate("sessionStorage.getItem('supervisorToken')") == sg
            page.locator(f'#transfers a[data-id="{tid}"]').click()
            expect(page.locator("#detail")).to_contain_text(refuser.address)
            _shot(page, tmp_path, "supervisor-view.png")

            page.click("#sign-out")
            _sign_in(page, hk)
            expect(page.locator("#whoami")).to_contain_text("devnet-HK")
            expect(page.locator("#detail")).to_be_hidden()  # nothing SG saw stays on the page
            message = "jurisdiction SG is not in the scope of supervisor devnet-HK"
            expect(page.locator("#volumes-error")).to_contain_text("403: " + message)
            expect(page.locator("#audit-error")).to_contain_text(message)
            page.select_option("#f-jurisdiction", "SG")
            page.click("#apply")
            expect(page.locator("#transfers-error")).to_have_text("403: " + message)
            expect(page.locator("#transfers tr")).to_have_count(0)
            expect(page.locator("#volumes-pack")).to_have_text("")
            _shot(page, tmp_path, "supervisor-view-out-of-scope.png")
            assert not [e for e in errors if "Content Security Policy" in e], errors
        finally:
            browser.close()
