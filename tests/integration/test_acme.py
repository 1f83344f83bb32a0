# SPDX-License-Identifier: GPL-3.0-or-later
"""notebook_tls_mode: acme against pebble (the acme scenario): the certificate served is one
pebble issued, verified against pebble's root alone and by the host's name; certbot's timer is
on; a forced renewal is served without a restart; a failed unattended renewal is in the journal
and reported, and mended, by the next converge."""

from __future__ import annotations

import os
import re
import socket
import ssl
import time
from urllib.parse import urlsplit

import pytest
from converge import converge
from hostcheck import sh

pytestmark = pytest.mark.skipif(os.environ.get("NB_TLS_MODE") != "acme", reason="ACME only")
ROOT = os.environ.get("NB_ACME_ROOT", "")
LINEAGE = os.environ.get("NB_SERVICE", "jupyter-notebook")
BUNDLE = f"/etc/letsencrypt/nbops/{LINEAGE}/directory-ca.pem"


@pytest.fixture
def fqdn(host):
    return sh(host, "hostname -f").strip()


def served(server, fqdn) -> tuple[str, str]:
    """(fingerprint, issuer) of the certificate the server presents, verified against pebble's
    root alone and for the host's name (while connecting to the port docker published)."""
    parts = urlsplit(server["url"])
    context = ssl.create_default_context(cafile=ROOT)
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    with context.wrap_socket(socket.create_connection((parts.hostname, parts.port), timeout=10), server_hostname=fqdn) as tls:
        der = tls.getpeercert(binary_form=True)
        issuer = dict(item[0] for item in tls.getpeercert()["issuer"])
    return __import__("hashlib").sha256(der).hexdigest(), issuer.get("commonName", "")


def main_pid(host) -> str:
    return sh(host, f"systemctl show -p MainPID --value {LINEAGE}").strip()


def test_the_certificate_is_pebbles_and_verifies_by_name_against_its_root_alone(server, fqdn):
    assert ROOT, "NB_ACME_ROOT is not set"
    _fingerprint, issuer = served(server, fqdn)
    assert issuer.lower().startswith("pebble intermediate"), issuer
    with pytest.raises(ssl.SSLCertVerificationError):
        served(server, "localhost")


def test_renewal_is_unattended_and_the_eab_key_stays_root_only(host):
    assert sh(host, "systemctl is-enabled certbot.timer; systemctl is-active certbot.timer").split() == ["enabled", "active"]
    assert f"REQUESTS_CA_BUNDLE={BUNDLE}" in sh(host, "systemctl show -p Environment certbot.service")
    ini = f"/etc/letsencrypt/nbops/{LINEAGE}/cli.ini"
    assert sh(host, f"stat -c '%U %a' {ini} $(dirname {ini})").split() == ["root", "600", "root", "700"]
    key = sh(host, f"sed -n 's/^eab-hmac-key = //p' {ini}").strip()
    assert key, "the EAB key is not in certbot's settings"
    leaked = sh(host, f"grep -rlF -- {key!r} /etc /var/log /var/lib/letsencrypt /tmp 2>/dev/null | grep -vx {ini} || true")
    assert leaked.strip() == "", f"the EAB key is in {leaked}"
    assert key not in sh(host, "journalctl --no-pager -q 2>/dev/null || true")


def test_a_forced_renewal_is_served_without_a_restart(server, host, fqdn):
    before, pid = served(server, fqdn)[0], main_pid(host)
    sh(host, f"REQUESTS_CA_BUNDLE={BUNDLE} certbot renew --force-renewal --no-random-sleep-on-renew --cert-name {LINEAGE} -q")
    for _attempt in range(20):
        if served(server, fqdn)[0] != before:
            break
        time.sleep(0.5)
    after = served(server, fqdn)[0]
    assert after != before, "the renewed certificate is not served"
    assert main_pid(host) == pid, "the server was restarted for a renewal"
    assert "put the certificate of /etc/letsencrypt/live/" in sh(host, "journalctl -t nbops-jupyter --no-pager -q")
    print(f"\n[figure] {host}: forced renewal served without a restart (pid {pid})")


@pytest.mark.one_platform(1)
def test_a_failed_unattended_renewal_is_in_the_journal_and_mended_by_the_next_converge(server, host, fqdn):
    conf = f"/etc/letsencrypt/renewal/{LINEAGE}.conf"
    # Due at once, from a directory that doesn't answer: the timer's run fails.
    sh(host, f"cp {conf} /root/renewal.bak && sed -i 's#^server = .*#server = https://pebble:14000/gone#' {conf} "
             f"&& sed -i '1i renew_before_expiry = 36500 days' {conf}")
    try:
        sh(host, "systemctl start certbot.service || true")
        assert sh(host, "systemctl show -p Result --value certbot.service").strip() != "success"
        journal = sh(host, "journalctl -u certbot.service --no-pager -q -n 50")
        assert re.search(r"(?i)fail", journal), journal[-2000:]
        before = served(server, fqdn)[0]
        run = converge(host)
        assert run.rc == 0, run.output[-3000:]
        assert "certbot's last unattended renewal failed" in run.output, run.output[-3000:]
        assert "another ACME directory" in run.output
        assert served(server, fqdn)[0] != before
        assert "server = https://pebble:14000/dir" in sh(host, f"cat {conf}")
    finally:
        sh(host, f"sed -i '/^renew_before_expiry = 36500 days/d' {conf}; systemctl reset-failed certbot.service; true")
    rerun = converge(host)
    assert rerun.rc == 0 and rerun.changed == 0, rerun.output[-3000:]


@pytest.mark.one_platform(0)
def test_leaving_acme_takes_certbots_lineage_away(server, host, fqdn):
    """Another mode: certbot's lineage, settings and deploy hook go (else a renewal would put the
    ACME certificate live over the new one); back to acme, a certificate is issued again."""
    left = converge(host, {"notebook_tls_mode": "self_signed"})
    assert left.rc == 0, left.output[-3000:]
    assert sh(host, f"ls -d /etc/letsencrypt/live/{LINEAGE} /etc/letsencrypt/renewal/{LINEAGE}.conf "
                    f"/etc/letsencrypt/nbops/{LINEAGE} 2>/dev/null; true").strip() == ""
    back = converge(host)
    assert back.rc == 0, back.output[-3000:]
    assert served(server, fqdn)[1].lower().startswith("pebble intermediate")
