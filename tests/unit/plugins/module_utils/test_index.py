# SPDX-License-Identifier: GPL-3.0-or-later
"""_index: https only, credentials redacted, sent as a header or read from netrc, and the sources
read from notebook_pip_extra_args."""

from __future__ import annotations

import base64

import pytest

from ansible_collections.nbops.jupyter.plugins.module_utils import _index

SECRET = "tok-3f9a1c"


@pytest.fixture(autouse=True)
def no_netrc(tmp_path, monkeypatch):
    """No netrc of this machine's: NETRC names a file that does not exist."""
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))


def basic(headers: dict) -> str:
    """The user:password an Authorization: Basic header carries."""
    scheme, _sep, token = headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    return base64.b64decode(token).decode()


def test_redact_hides_credentials_wherever_they_occur():
    """Every scheme://user:token@ (or token@) in a text becomes scheme://***@; the rest is kept."""
    text = (f"could not fetch https://analyst:{SECRET}@mirror.example/simple/uv/ (also tried "
            f"git+https://{SECRET}@git.example/x.git and HTTP://u:{SECRET}@other.example:8443/simple)")
    redacted = _index.redact(text)
    assert SECRET not in redacted and "analyst" not in redacted
    assert redacted == ("could not fetch https://***@mirror.example/simple/uv/ (also tried "
                        "git+https://***@git.example/x.git and HTTP://***@other.example:8443/simple)")
    clean = "https://mirror.example/simple and /srv/wheels, user@example.org"
    assert _index.redact(clean) == clean


def test_redact_hides_a_password_with_a_raw_at_sign():
    """A password split_credentials accepts (one with an unencoded '@') is hidden whole by redact()."""
    url = "https://analyst:s3cr@t@mirror.example/simple"
    assert _index.split_credentials(url)[1] == ("analyst", "s3cr@t")
    assert _index.redact(url) == "https://***@mirror.example/simple"


def test_split_credentials():
    """user:password (percent-decoded) comes off the URL, port and path stay; no credentials, no change."""
    assert _index.split_credentials(f"https://analyst:{SECRET}@mirror.example:8443/simple/?x=1") == (
        "https://mirror.example:8443/simple/?x=1", ("analyst", SECRET))
    assert _index.split_credentials("https://an%40lyst:p%2Fw%3A@mirror.example/simple") == (
        "https://mirror.example/simple", ("an@lyst", "p/w:"))
    # A token alone, as some registries take it, is a user with an empty password.
    assert _index.split_credentials(f"https://{SECRET}@mirror.example/simple") == ("https://mirror.example/simple", (SECRET, ""))
    assert _index.split_credentials("https://mirror.example/simple") == ("https://mirror.example/simple", None)


def test_split_credentials_keeps_an_ipv6_host():
    """An IPv6 index host keeps its brackets when the credentials come off."""
    assert _index.split_credentials(f"https://analyst:{SECRET}@[::1]:8443/simple") == (
        "https://[::1]:8443/simple", ("analyst", SECRET))


def test_check_https_refuses_other_schemes_without_showing_credentials():
    """https (any case) passes; http or no scheme is refused, the message asks for https:// and hides the token."""
    _index.check_https("https://mirror.example/simple", "The package index")
    _index.check_https("HTTPS://mirror.example/simple", "The package index")
    with pytest.raises(_index.IndexError_) as exc:
        _index.check_https(f"http://analyst:{SECRET}@mirror.example/simple", "The package index")
    message = str(exc.value)
    assert message.startswith("The package index must be an https:// URL") and "http://***@mirror.example/simple" in message
    assert SECRET not in message and "analyst" not in message
    with pytest.raises(_index.IndexError_, match="https:// URL .got no scheme"):
        _index.check_https("mirror.example/simple", "The package index")


def test_authorization_sends_the_url_credentials_as_basic():
    """user:token@ in the URL becomes an Authorization: Basic header with both, percent-decoded."""
    assert basic(_index.authorization(f"https://analyst:{SECRET}@mirror.example/simple")) == f"analyst:{SECRET}"
    assert basic(_index.authorization("https://an%40lyst:p%3Aw@mirror.example/simple")) == "an@lyst:p:w"
    assert _index.authorization("https://mirror.example/simple") == {}


def test_authorization_falls_back_to_a_netrc_file(tmp_path):
    """A URL without credentials takes its host's netrc entry; other hosts get none; the URL's own win."""
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine mirror.example login analyst password {SECRET}\n")
    assert basic(_index.authorization("https://mirror.example:8443/simple/uv/", netrc_file=str(netrc))) == f"analyst:{SECRET}"
    assert _index.authorization("https://files.example/uv.whl", netrc_file=str(netrc)) == {}
    assert basic(_index.authorization("https://other:pw@mirror.example/simple", netrc_file=str(netrc))) == "other:pw"


def test_authorization_reads_netrc_from_the_environment(tmp_path, monkeypatch):
    """Without netrc_file, NETRC names the file; a missing, broken or unreadable one gives no header, not an error."""
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine mirror.example login analyst password {SECRET}\n")
    monkeypatch.setenv("NETRC", str(netrc))
    assert basic(_index.authorization("https://mirror.example/simple")) == f"analyst:{SECRET}"
    assert _index.authorization("https://mirror.example/simple", netrc_file=str(tmp_path / "none")) == {}
    assert _index.authorization("https://mirror.example/simple", netrc_file=str(tmp_path)) == {}
    netrc.write_text(f"bogus mirror.example login analyst password {SECRET}\n")
    assert _index.authorization("https://mirror.example/simple") == {}


def test_sources_default_to_pypi_or_the_index_url():
    """No settings: PyPI; an index URL replaces it."""
    assert _index.Sources().indexes() == [_index.PYPI]
    sources = _index.Sources("https://mirror.example/simple")
    assert sources.indexes() == ["https://mirror.example/simple"] and sources.find_links == [] and not sources.no_index


@pytest.mark.parametrize("words", [
    ["--index-url", "https://m.example/simple"],
    ["--index-url=https://m.example/simple"],
    ["-i", "https://m.example/simple"],
    ["-i=https://m.example/simple"],
])
def test_sources_read_the_index_url_in_both_spellings(words):
    """--index-url/-i, value as the next word or after '=', replaces the index URL given."""
    sources = _index.Sources("https://first.example/simple", ["--pre", *words, "--only-binary", ":all:"])
    assert sources.index == "https://m.example/simple" and sources.indexes() == ["https://m.example/simple"]


def test_sources_read_extra_indexes_and_find_links():
    """--extra-index-url follows the index in order; --find-links/-f collect every location."""
    sources = _index.Sources("https://m.example/simple", [
        "--extra-index-url", "https://x1.example/simple", "--extra-index-url=https://x2.example/simple",
        "--find-links", "/srv/wheels", "-f", "https://w.example/wheels/", "--find-links=/opt/w", "-f=/opt/v"])
    assert sources.indexes() == ["https://m.example/simple", "https://x1.example/simple", "https://x2.example/simple"]
    assert sources.find_links == ["/srv/wheels", "https://w.example/wheels/", "/opt/w", "/opt/v"]


def test_no_index_leaves_no_index_to_ask():
    """--no-index: indexes() is empty, extra indexes included; find-links stay."""
    sources = _index.Sources("https://m.example/simple", ["--extra-index-url", "https://x.example/simple", "--no-index",
                                                          "--find-links", "/srv/wheels"])
    assert sources.no_index and sources.indexes() == [] and sources.find_links == ["/srv/wheels"]


@pytest.mark.parametrize("option", ["--index-url", "-i", "--extra-index-url", "--find-links", "-f"])
def test_an_option_without_its_value_names_the_variable(option):
    """An option that takes a value, given last, is an error naming notebook_pip_extra_args and the option."""
    with pytest.raises(_index.IndexError_) as exc:
        _index.Sources("", ["--no-index", option])
    assert str(exc.value) == f"{option} in notebook_pip_extra_args needs a value"


@pytest.mark.parametrize(("index_url", "words", "what"), [
    ("http://m.example/simple", [], "The package index"),
    ("https://m.example/simple", ["-i", "http://m.example/simple"], "The package index"),
    ("https://m.example/simple", ["--extra-index-url", "http://x.example/simple"], "The package index"),
    ("https://m.example/simple", ["--find-links=http://w.example/wheels/"], "A --find-links location"),
    ("https://m.example/simple", ["-f", "ftp://w.example/wheels/"], "A --find-links location"),
])
def test_check_refuses_plain_http_indexes_and_find_links(index_url, words, what):
    """Every index and every find-links URL must be https://; the message says so."""
    with pytest.raises(_index.IndexError_) as exc:
        _index.Sources(index_url, words).check()
    assert str(exc.value).startswith(f"{what} must be an https:// URL")


def test_check_refuses_http_without_showing_credentials():
    """The refusal of an http index with user:token@ shows it as ***."""
    with pytest.raises(_index.IndexError_) as exc:
        _index.Sources(f"http://analyst:{SECRET}@m.example/simple").check()
    assert "https://" in str(exc.value) and SECRET not in str(exc.value) and "analyst" not in str(exc.value)


def test_check_accepts_https_and_local_directories():
    """https indexes and find-links URLs, and find-links directories, pass."""
    _index.Sources("https://m.example/simple", ["--extra-index-url", "https://x.example/simple", "-f", "/srv/wheels",
                                                "-f", "https://w.example/wheels/", "-f", "relative/wheels"]).check()


@pytest.mark.parametrize("word", ["-ihttp://m.example/simple", "--default-index=http://m.example/simple",
                                  "--index=http://m.example/simple"])
def test_check_sees_every_spelling_of_an_index(word):
    """An http index in any spelling the installers take is refused."""
    with pytest.raises(_index.IndexError_, match="https://"):
        _index.Sources("https://m.example/simple", [word]).check()


@pytest.mark.parametrize("word", [f"https://analyst:{SECRET}@x.example/simple", f"--extra-index-url=https://{SECRET}@x.example/simple",
                                  f"--find-links=https://analyst:{SECRET}@w.example/wheels/"])
def test_check_args_refuses_credentials_without_echoing_them(word):
    """A word with user:token@ is refused (argv is world-readable); the message shows it redacted only."""
    with pytest.raises(_index.IndexError_) as exc:
        _index.check_args(["--pre", word])
    message = str(exc.value)
    assert message.startswith("notebook_pip_extra_args must not carry credentials") and "***@" in message
    assert SECRET not in message and "analyst" not in message


def test_check_args_and_split_args_pass_clean_words():
    """Clean words come back as they are; split_args splits like a shell and checks the words too."""
    words = ["--no-index", "--find-links", "/srv/wheels", "--extra-index-url", "https://x.example/simple"]
    assert _index.check_args(words) == words
    assert _index.split_args("--no-index --find-links '/srv/my wheels' -f=/opt/w") == [
        "--no-index", "--find-links", "/srv/my wheels", "-f=/opt/w"]
    with pytest.raises(_index.IndexError_) as exc:
        _index.split_args(f"--no-index --extra-index-url 'https://analyst:{SECRET}@x.example/simple'")
    assert SECRET not in str(exc.value)
