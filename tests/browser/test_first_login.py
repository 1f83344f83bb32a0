# SPDX-License-Identifier: GPL-3.0-or-later
"""A person's first visit, in a real browser (Debian's chromium driven by Playwright): trust the
deployed certificate, log in with the password, create a notebook, run a cell, see its output."""

from __future__ import annotations

import base64
import hashlib
import os
import ssl
import subprocess
from pathlib import Path

import pytest

URL = os.environ.get("NB_URL", "")
pytestmark = pytest.mark.skipif(not URL, reason="NB_URL is not set: runs against the demo (make demo-test)")
CHROMIUM = "/usr/bin/chromium"
# Flags that keep chromium from reaching for the internet, which is closed here.
QUIET = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-sandbox"]


def spki_pin(cert_file: str) -> str:
    """base64(sha256(SubjectPublicKeyInfo)): what chromium's certificate pin flag takes."""
    der = ssl.PEM_cert_to_DER_cert(Path(cert_file).read_text())
    spki = subprocess.run(
        ["sh", "-c", "openssl x509 -inform der -pubkey -noout | openssl pkey -pubin -outform der"],
        input=der, capture_output=True, check=True,
    ).stdout
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def test_log_in_create_a_notebook_and_run_a_cell():
    from playwright.sync_api import expect, sync_playwright

    password = Path(os.environ["NB_PASSWORD_FILE"]).read_text().strip()
    shot = Path(os.environ.get("NB_SCREENSHOT", ".build/artifacts/first-login.png"))
    shot.parent.mkdir(parents=True, exist_ok=True)
    # Trust exactly the deployed certificate, nothing looser than a browser user who checked it.
    pin = f"--ignore-certificate-errors-spki-list={spki_pin(os.environ['NB_CA'])}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=QUIET + [pin])
        context = browser.new_context(viewport={"width": 1280, "height": 720})
        try:
            page = context.new_page()
            page.goto(URL)
            assert "/login" in page.url
            page.fill("input[name=password]", password)
            page.keyboard.press("Enter")
            page.wait_for_url("**/tree**")

            page.locator("text=New").first.click()
            with context.expect_page() as opened:
                page.locator(".lm-Menu-itemLabel", has_text="Python 3").first.click()
            notebook = opened.value
            notebook.wait_for_url("**/notebooks/*.ipynb")
            editor = notebook.locator(".jp-Cell .cm-content").first
            editor.click()
            editor.type("print('nbops says', 6 * 7)")
            notebook.keyboard.press("Shift+Enter")
            output = notebook.locator(".jp-OutputArea-output").first
            expect(output).to_contain_text("nbops says 42", timeout=60_000)
            notebook.screenshot(path=str(shot))
        finally:
            browser.close()
