# SPDX-License-Identifier: GPL-3.0-or-later
"""A person's first visit, in a real browser (Debian's chromium driven by Playwright): trust the
deployed certificate, log in with the password, create a notebook, run a cell, see its output;
then an inline matplotlib plot, a terminal and JupyterLab at /lab. All along, every Content
Security Policy violation the browser reports (console messages and `securitypolicyviolation`
events, enforced or report-only) is collected, and there must be none: the UI works under the
policy the server sends (see CSP.md for the strictest one that does).

Environment: NB_URL (the server), NB_PASSWORD_FILE, NB_CA (the deployed certificate: the only
one trusted, no click-through), NB_SCREENSHOT (optional: the notebook at the end is saved there),
NB_EXPECT_CSP (optional: the exact Content-Security-Policy every HTML page must carry).
NB_FRONTEND (optional, notebook or lab: the demo's notebook_frontend): with lab, the login must
land on JupyterLab at /lab (its file browser shown), /tree must still serve Notebook's file
browser (where the other tests start), and JupyterLab must run a cell (no skip when /lab is off).

NB_TRUST_CA (a CA certificate, instead of NB_CA): the browser trusts that CA as a device that
trusted it once does - a trust anchor in chromium's own NSS database (~/.pki/nssdb of a fresh
HOME, made with certutil from libnss3-tools), no pin, no --ignore-certificate-errors, Playwright's
ignore_https_errors off - and verifies the server's chain and name itself (NB_URL
https://localhost:PORT/, a name of the certificate). test_the_browser_verifies_the_server_against_the_ca
checks the browser's verdict, and that it refuses the server without the CA or under another name."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import ssl
import subprocess
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

URL = os.environ.get("NB_URL", "")
pytestmark = pytest.mark.skipif(not URL, reason="NB_URL is not set: runs against the demo (make demo-test)")
BASE = URL if URL.endswith("/") else URL + "/"
TRUST_CA = os.environ.get("NB_TRUST_CA", "")
FRONTEND = os.environ.get("NB_FRONTEND", "notebook")
if FRONTEND not in ("notebook", "lab"):
    raise pytest.UsageError(f"NB_FRONTEND must be notebook or lab, got {FRONTEND!r}")
CHROMIUM = "/usr/bin/chromium"
# Flags that keep chromium from reaching for the internet, which is closed here.
QUIET = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-sandbox"]
STEP = 30_000  # ms for a UI step
SLOW = 60_000  # ms for anything that waits on a kernel or a shell

# Runs in every page and frame before its own scripts: the browser's own record of each violation.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
window.addEventListener('securitypolicyviolation', (e) => {
  const v = {page: location.href, directive: e.effectiveDirective, blocked: e.blockedURI,
             source: e.sourceFile, line: e.lineNumber, sample: e.sample, disposition: e.disposition};
  window.__cspViolations.push(v);
  if (window.__nbopsCspViolation) window.__nbopsCspViolation(v);
}, true);
"""


def spki_pin(cert_file: str) -> str:
    """base64(sha256(SubjectPublicKeyInfo)): what chromium's certificate pin flag takes."""
    der = ssl.PEM_cert_to_DER_cert(Path(cert_file).read_text())
    spki = subprocess.run(
        ["sh", "-c", "openssl x509 -inform der -pubkey -noout | openssl pkey -pubin -outform der"],
        input=der, capture_output=True, check=True,
    ).stdout
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def nss_home(home: Path, ca_file: str | None) -> Path:
    """home, a fresh HOME for chromium: on Linux it takes the trust anchors a user added from the
    NSS database in ~/.pki/nssdb. With ca_file, that one CA is trusted to identify TLS servers
    ("C,,"); without, the database is empty."""
    certutil = shutil.which("certutil")
    if not certutil:
        pytest.fail("certutil is missing: apt-get install libnss3-tools (make demo-test installs it)")
    db = home / ".pki" / "nssdb"
    db.mkdir(parents=True)
    subprocess.run([certutil, "-d", f"sql:{db}", "-N", "--empty-password"], check=True, capture_output=True)
    if ca_file:
        subprocess.run([certutil, "-d", f"sql:{db}", "-A", "-n", "demo-ca", "-t", "C,,", "-i", ca_file],
                       check=True, capture_output=True)
    return home


def launch(playwright, home: Path | None = None, args: tuple[str, ...] = ()):
    """chromium, headless; with home, under that HOME (and its NSS database)."""
    env = {**os.environ, "HOME": str(home)} if home else None
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=QUIET + list(args),
                                      env=env)


def der(cert_file: str) -> bytes:
    return ssl.PEM_cert_to_DER_cert(Path(cert_file).read_text())


def common_name(cert_file: str) -> str:
    subject = subprocess.run(
        ["openssl", "x509", "-in", cert_file, "-noout", "-subject", "-nameopt", "multiline"],
        capture_output=True, text=True, check=True,
    ).stdout
    return re.search(r"^\s*commonName\s*=\s*(.*)$", subject, re.M).group(1).strip()


def listing(violations: list[str], most: int = 25) -> str:
    more = f"\n... and {len(violations) - most} more" if len(violations) > most else ""
    return "\n".join(violations[:most]) + more


class Session:
    """One browser context for the whole module, and everything it saw."""

    def __init__(self, context, playwright, home: Path | None):
        self.context = context
        self.playwright = playwright
        self.home = home  # NB_TRUST_CA: the HOME whose NSS database trusts the CA
        self.violations: list[str] = []  # deduplicated, in order
        self.checked = 0  # how many of them a step already reported
        self.documents: list[tuple[str, int, dict]] = []  # (url, status, headers) of HTML pages
        self.pages: dict = {}
        self.landed = ""  # where the login sent the browser
        self.before: dict = {"kernels": [], "terminals": []}  # running when the test began
        context.add_init_script(RECORD_VIOLATIONS)
        context.expose_binding("__nbopsCspViolation", lambda _source, v: self._add("event", v))
        # Context-wide, so that a tab the UI opens (a notebook, a terminal) is watched from its start.
        context.on("console", lambda m: self._maybe("console", m.text))
        context.on("weberror", lambda e: self._maybe("pageerror", str(e.error)))
        context.on("response", self._document)

    def _maybe(self, kind: str, text: str) -> None:
        if "Content Security Policy" in text:
            self._add(kind, text)

    def _add(self, kind: str, what) -> None:
        if isinstance(what, dict):
            what = {k: v for k, v in what.items() if v not in ("", 0, None)}
            what = json.dumps(what, sort_keys=True)
        # One line per distinct violation: without the cache-busting query strings, data: URIs cut.
        text = re.sub(r"(data:[\w/+.-]+;base64,)[^'\"\s]{12,}", r"\1...", str(what))
        text = f"{kind}: " + re.sub(r"\?[^'\"\s]*", "", text).replace("\n", " ")
        text = text if len(text) <= 500 else text[:497] + "..."
        if text not in self.violations:
            self.violations.append(text)

    def _document(self, response) -> None:
        if response.request.resource_type == "document" and response.url.startswith(BASE):
            self.documents.append((response.url, response.status, response.all_headers()))

    def collect(self) -> list[str]:
        """Also read window.__cspViolations of every open page (events the binding may have missed)."""
        for page in self.context.pages:
            try:
                for v in page.evaluate("() => window.__cspViolations || []"):
                    self._add("event", v)
            except Exception:  # noqa: BLE001 - a page navigating or closing right now
                pass
        return self.violations

    def assert_clean(self, step: str) -> None:
        new = self.collect()[self.checked:]
        self.checked = len(self.violations)
        assert not new, f"Content Security Policy violations while {step}:\n" + listing(new)

    def shoot_everything(self, why: str) -> None:
        """Next to NB_SCREENSHOT, a picture of every open tab: what the browser showed when it broke."""
        shot = os.environ.get("NB_SCREENSHOT")
        for number, page in enumerate(self.context.pages if shot else []):
            try:
                page.screenshot(path=str(Path(shot).with_name(f"{Path(shot).stem}-{why}-{number}.png")))
            except Exception:  # noqa: BLE001 - a picture must not hide the failure itself
                pass

    @contextmanager
    def step(self, name: str, clean: bool = True):
        """A UI step: when it fails, say which violations came before (often the cause); when it
        works, there must have been none (clean), or the next step's check reports them (a
        fixture's step: a violation fails the test that uses it, not every test after it)."""
        try:
            yield
        except Exception as error:
            self.shoot_everything("failed")
            new = self.collect()[self.checked:]
            self.checked = len(self.violations)
            if not new:
                raise
            raise AssertionError(f"{name} failed: {error}\nafter these Content Security Policy violations:\n"
                                 + listing(new)) from error
        if clean:
            self.assert_clean(name)


# The kernels and terminals on the server, and a DELETE with the XSRF token the UI would send.
RUNNING = """async (base) => {
  const names = async (path, key) => {
    const answer = await fetch(base + path, {credentials: 'same-origin'});
    const list = answer.ok ? await answer.json() : [];  // api/terminals: 404 when they are off
    return list.map((x) => x[key]);
  };
  return {kernels: await names('api/kernels', 'id'), terminals: await names('api/terminals', 'name')};
}"""
DELETE = """async ([base, paths]) => {
  const xsrf = (document.cookie.match(/\\b_xsrf=([^;]*)/) || [])[1] || '';
  for (const path of paths) {
    await fetch(base + path, {method: 'DELETE', credentials: 'same-origin', headers: {'X-XSRFToken': xsrf}});
  }
}"""


def shut_down_what_we_started(page, before: dict) -> None:
    """Best effort: stop the kernels and terminals this test started, leave the notebooks."""
    try:
        now = page.evaluate(RUNNING, BASE)
        paths = [f"api/kernels/{k}" for k in now["kernels"] if k not in before["kernels"]]
        paths += [f"api/terminals/{t}" for t in now["terminals"] if t not in before["terminals"]]
        page.evaluate(DELETE, [BASE, paths])
    except Exception:  # noqa: BLE001 - cleanup must not hide the test's own result
        pass


def accept_kernel_dialog(page) -> None:
    """Notebook 7 sometimes asks which kernel a new notebook gets (right after a server start):
    take its default, Python 3, whenever the dialog shows up."""
    dialog = page.locator(".jp-Dialog", has_text="Select Kernel")
    page.add_locator_handler(dialog, lambda: dialog.locator(".jp-Dialog-button.jp-mod-accept").click())


def http_status(page, path: str) -> int:
    """GET a path of the server from inside the page: the browser's cookies, trust and CSP."""
    return page.evaluate("async (url) => (await fetch(url, {credentials: 'same-origin'})).status",
                         urljoin(BASE, path))


def run_cell(page, index: int, code: str, within=None) -> None:
    """Type code into the index-th cell (of within, a notebook panel, when given) and run it."""
    from playwright.sync_api import expect

    editor = (within or page).locator(".jp-Cell .cm-content").nth(index)
    editor.click()
    editor.press_sequentially(code)
    expect(editor).to_have_text(code)
    editor.press("Shift+Enter")


def side_shot(page, suffix: str) -> None:
    """Next to NB_SCREENSHOT (which gets the notebook at the end), a picture of another step."""
    shot = os.environ.get("NB_SCREENSHOT")
    if shot:
        Path(shot).parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(shot).with_name(f"{Path(shot).stem}-{suffix}.png")))


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    if TRUST_CA:
        # The CA as a trust anchor, and chromium's own verification: chain and name.
        home, args = nss_home(tmp_path_factory.mktemp("home-trusting-the-ca"), TRUST_CA), ()
    else:
        # Trust exactly the deployed certificate, nothing looser than a browser user who checked it.
        home, args = None, (f"--ignore-certificate-errors-spki-list={spki_pin(os.environ['NB_CA'])}",)
    with sync_playwright() as playwright:
        browser = launch(playwright, home, args)
        context = browser.new_context(viewport={"width": 1280, "height": 720}, ignore_https_errors=False)
        context.set_default_timeout(STEP)
        context.set_default_navigation_timeout(SLOW)
        s = Session(context, playwright, home)
        try:
            yield s
        finally:
            shot = os.environ.get("NB_SCREENSHOT")
            page = s.pages.get("notebook") or (context.pages[-1] if context.pages else None)
            if shot and page is not None and not page.is_closed():
                Path(shot).parent.mkdir(parents=True, exist_ok=True)
                page.bring_to_front()
                page.screenshot(path=shot)
            if "tree" in s.pages:
                shut_down_what_we_started(s.pages["tree"], s.before)
            browser.close()


@pytest.fixture(scope="module")
def tree(session):
    """Logged in: the file browser at /tree (NB_FRONTEND lab: after landing on /lab)."""
    page = session.context.new_page()
    session.pages["tree"] = page
    landing = "lab" if FRONTEND == "lab" else "tree"
    with session.step(f"logging in (/login) and landing on /{landing}", clean=False):
        page.goto(BASE)
        assert "/login" in page.url
        page.locator("input[name=password]").fill(Path(os.environ["NB_PASSWORD_FILE"]).read_text().strip())
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/{landing}**")
        session.landed = page.url
        if landing == "lab":
            # JupyterLab's shell with its file browser: its plugins activated under the policy.
            page.locator(".jp-LabShell .jp-DirListing-content").wait_for(timeout=SLOW)
            side_shot(page, "landing")
            page.goto(urljoin(BASE, "tree"))
        page.locator(".jp-DirListing-content").wait_for()
        session.before = page.evaluate(RUNNING, BASE)
    return page


@pytest.fixture(scope="module")
def notebook(session, tree):
    """A new notebook on the Python 3 kernel, from the file browser's New menu."""
    with session.step("opening a new notebook from New > Python 3", clean=False):
        tree.bring_to_front()
        tree.locator("text=New").first.click()
        with session.context.expect_page() as opened:
            tree.locator(".lm-Menu-itemLabel", has_text="Python 3").first.click()
        page = opened.value
        session.pages["notebook"] = page
        accept_kernel_dialog(page)
        page.wait_for_url("**/notebooks/*.ipynb")
        page.locator(".jp-Cell .cm-content").first.wait_for()
    return page


def test_log_in_and_see_the_file_browser(session, tree):
    from playwright.sync_api import expect

    with session.step("logging in and showing the file browser"):
        expect(tree.locator(".jp-DirListing-header")).to_be_visible()


def test_login_lands_on_the_frontend(session, tree):
    """notebook_frontend: the login sends the browser to /tree (notebook) or /lab (lab); with lab,
    Notebook's /tree is still served (the tree fixture showed its file browser)."""
    landing = "lab" if FRONTEND == "lab" else "tree"
    assert urlsplit(session.landed).path.rstrip("/").endswith("/" + landing), session.landed
    assert http_status(tree, "tree") == 200
    if FRONTEND == "lab":
        assert http_status(tree, "lab") == 200


def test_log_in_create_a_notebook_and_run_a_cell(session, notebook):
    from playwright.sync_api import expect

    with session.step("opening a notebook and running a cell"):
        run_cell(notebook, 0, "print('nbops says', 6 * 7)")
        output = notebook.locator(".jp-Cell").nth(0).locator(".jp-OutputArea-output")
        expect(output).to_contain_text("nbops says 42", timeout=SLOW)


def test_the_browser_verifies_the_server_against_the_ca(session, tree, tmp_path_factory):
    """NB_TRUST_CA: the pages came over TLS chromium verified against the CA (its security state
    "secure", the chain ending at the CA, HSTS sent), and the same chromium refuses the server
    without the CA in its database, or under a name the certificate doesn't carry."""
    from playwright.sync_api import Error

    if not TRUST_CA:
        pytest.skip("NB_TRUST_CA is not set: this run trusts the self-signed certificate by its pin")
    assert urlsplit(BASE).scheme == "https", BASE
    page = session.context.new_page()
    cdp = session.context.new_cdp_session(page)
    states: list[dict] = []
    cdp.on("Security.visibleSecurityStateChanged", lambda event: states.append(event["visibleSecurityState"]))
    cdp.send("Security.enable")
    response = page.goto(urljoin(BASE, "tree"))
    assert response.ok and response.url.startswith(BASE), (response.status, response.url)
    page.wait_for_function("() => document.readyState === 'complete'")
    page.wait_for_timeout(200)  # the security state follows the load
    assert states, "chromium reported no security state for the page"
    state = states[-1]
    tls = state.get("certificateSecurityState") or {}
    assert state["securityState"] == "secure", (state["securityState"], state.get("securityStateIssueIds"),
                                                tls)
    assert not tls.get("certificateNetworkError"), tls["certificateNetworkError"]
    assert tls.get("issuer") == common_name(TRUST_CA), tls
    chain = [base64.b64decode(c) for c in tls.get("certificate", [])]
    assert len(chain) >= 2 and chain[-1] == der(TRUST_CA), "the chain chromium verified doesn't end at the CA"
    details = response.security_details() or {}
    assert details.get("issuer") == common_name(TRUST_CA), details
    assert "strict-transport-security" in response.headers, "private_ca: no HSTS header"
    page.close()

    port = urlsplit(BASE).port or 443
    elsewhere = f"https://not-in-the-certificate.test:{port}/"
    refusals = [
        # A browser that never trusted the CA: the same server is an unknown authority.
        (nss_home(tmp_path_factory.mktemp("home-without-the-ca"), None), (), BASE,
         "ERR_CERT_AUTHORITY_INVALID"),
        # Trusting the CA, under a name the certificate doesn't carry: the name is checked.
        (session.home, (f"--host-resolver-rules=MAP not-in-the-certificate.test {urlsplit(BASE).hostname}",),
         elsewhere, "ERR_CERT_COMMON_NAME_INVALID"),
    ]
    for home, args, url, error in refusals:
        browser = launch(session.playwright, home, args)
        try:
            with pytest.raises(Error, match=error):
                browser.new_context(ignore_https_errors=False).new_page().goto(url, timeout=STEP)
        finally:
            browser.close()


def test_inline_plot_renders(session, notebook):
    from playwright.sync_api import expect

    with session.step("rendering an inline matplotlib plot"):
        run_cell(notebook, 1, "import matplotlib.pyplot as plt; plt.plot([0, 1, 2], [0, 1, 4]); plt.show()")
        outputs = notebook.locator(".jp-Cell").nth(1).locator(".jp-OutputArea-output")
        image = outputs.locator("img")
        missing = outputs.filter(has_text="No module named 'matplotlib'")
        expect(image.or_(missing).first).to_be_visible(timeout=SLOW)
        if missing.count():
            pytest.skip("matplotlib is not installed on the server (notebook_extra_packages: [matplotlib])")
        assert image.first.get_attribute("src").startswith("data:image/png;base64,")
        # decode() rejects when the browser refused the image (img-src) or can't decode it.
        assert image.first.evaluate("img => img.decode().then(() => img.naturalWidth, () => 0)") > 0


def test_terminal_runs_a_command(session, tree):
    from playwright.sync_api import expect

    status = http_status(tree, "api/terminals")
    if status == 404:
        pytest.skip("the server reports terminals disabled (GET /api/terminals: 404)")
    assert status == 200, f"GET /api/terminals: {status}"
    with session.step("running a command in a terminal (New > Terminal)"):
        tree.bring_to_front()
        tree.locator("text=New").first.click()
        with session.context.expect_page() as opened:
            tree.locator(".lm-Menu-itemLabel", has_text="Terminal").first.click()
        page = opened.value
        session.pages["terminal"] = page
        # xterm.js draws on a canvas (WebGL or 2D), its text is not in the DOM: read what the
        # terminal widget draws, the stdout frames on its websocket.
        sockets = []
        page.on("websocket", lambda ws: "/terminals/websocket/" in ws.url and sockets.append(ws))
        page.wait_for_url("**/terminals/*")
        screen = page.locator(".jp-Terminal .xterm-screen")
        expect(screen).to_be_visible()
        expect(screen.locator("canvas").first).to_be_attached()
        if not sockets:
            page.wait_for_event("websocket", timeout=SLOW,
                                predicate=lambda ws: "/terminals/websocket/" in ws.url)
        screen.click()
        # The typed line echoes back as "$((6 * 7))": only the shell's answer has 42 after the dash.
        with sockets[0].expect_event("framereceived", predicate=lambda frame: "nbops-term-42" in str(frame),
                                     timeout=SLOW):
            page.keyboard.type("echo nbops-term-$((6 * 7))\n")
    side_shot(page, "terminal")


def test_jupyterlab_runs_a_cell(session, tree):
    from playwright.sync_api import expect

    if http_status(tree, "lab") == 404:
        assert FRONTEND != "lab", "NB_FRONTEND lab, and /lab is not served"
        pytest.skip("/lab is not served (JupyterLab's server extension is off)")
    page = session.context.new_page()
    session.pages["lab"] = page
    accept_kernel_dialog(page)
    with session.step("running a cell in JupyterLab (/lab, Launcher > Notebook)"):
        # A workspace of its own, reset: the Launcher, whatever the default workspace last showed.
        page.goto(urljoin(BASE, "lab/workspaces/nbops-browser-test?reset"))
        card = page.locator('.jp-LauncherCard[data-category="Notebook"]').first
        card.wait_for(timeout=SLOW)  # JupyterLab's first start in this browser: all of its bundles
        card.click()
        panel = page.locator(".jp-NotebookPanel:visible")
        # The kernel status in the status bar: "Python 3 (ipykernel) | Idle" once it is up.
        expect(page.locator(".jp-StatusBar-Item", has_text="| Idle").first).to_be_visible(timeout=SLOW)
        run_cell(page, 0, "print('lab says', 6 * 7)", within=panel)
        expect(panel.locator(".jp-OutputArea-output").first).to_contain_text("lab says 42", timeout=SLOW)
    side_shot(page, "lab")


def test_html_pages_carry_the_policy(session, tree):
    """Every HTML page the browser loaded (/login, /tree, the notebook, the terminal, /lab): a
    Content-Security-Policy (NB_EXPECT_CSP exactly, when set), nosniff, and a Server header that
    doesn't give Tornado's version away. Redirects are left out: "/" -> /tree is Tornado's own
    RedirectHandler, which no Jupyter setting reaches (it always says TornadoServer/x.y)."""
    expected = os.environ.get("NB_EXPECT_CSP")
    pages = [(url, headers) for url, status, headers in session.documents if status == 200]
    urls = [url for url, _headers in pages]
    assert any("/login" in url for url in urls) and any("/tree" in url for url in urls), pages
    for url, headers in pages:
        policy = headers.get("content-security-policy")
        assert policy, f"{url}: no Content-Security-Policy"
        if expected:
            assert policy == expected, f"{url}: Content-Security-Policy {policy!r}, expected {expected!r}"
        nosniff = headers.get("x-content-type-options")
        assert nosniff == "nosniff", f"{url}: X-Content-Type-Options: {nosniff}, expected nosniff"
        server = headers.get("server", "")
        assert not re.search(r"tornado\S*/\d", server, re.I), f"{url}: Server: {server} gives the version away"


def test_no_csp_violation_anywhere(session, tree):
    """Whatever arrived late or outside a step (the last word, after every other test)."""
    everything = session.collect()
    assert not everything, "Content Security Policy violations:\n" + listing(everything)
