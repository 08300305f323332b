"""The handshake refuses workers that could give different results."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import nlp_parallel
from nlp_parallel import HandshakeError
from nlp_parallel.engine import check_hello, local_nltk_version
from nlp_parallel.modules import RemoteModule
from nlp_parallel.worker import PROTOCOL
from remote_modules import batched_double, needs_nltk


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory) -> Path:
    """A real interpreter with nothing installed: no NLTK, no execnet, no nlp_parallel."""
    venv = tmp_path_factory.mktemp("bare")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    return venv / "bin" / "python"


@pytest.fixture(scope="module")
def old_nltk_python(tmp_path_factory) -> Path:
    """An interpreter whose installed-package metadata says NLTK 3.0.0."""
    venv = tmp_path_factory.mktemp("oldnltk")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    info = site / "nltk-3.0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: nltk\nVersion: 3.0.0\n")
    return venv / "bin" / "python"


def test_worker_needs_only_python(bare_python):
    """A batched task that does not use NLTK runs on a bare interpreter."""
    assert nlp_parallel.map(batched_double, range(100), [f"popen//python={bare_python}"]) == [
        2 * i for i in range(100)
    ]


def test_missing_nltk_is_refused_naming_the_gateway(bare_python):
    with pytest.raises(HandshakeError) as info:
        nlp_parallel.map(needs_nltk, range(3), ["popen", f"popen//python={bare_python}"])
    message = str(info.value)
    assert f"python={bare_python}" in message
    assert "has no NLTK" in message and f"nltk=={local_nltk_version()}" in message


def test_other_nltk_version_is_refused(old_nltk_python):
    with pytest.raises(HandshakeError, match=r"has NLTK 3\.0\.0, this driver NLTK"):
        nlp_parallel.map(needs_nltk, range(3), [f"popen//python={old_nltk_python}"])


def test_same_nltk_version_is_accepted():
    assert nlp_parallel.map(needs_nltk, range(4), [("popen", 2)]) == [local_nltk_version()] * 4


def hello(**changes):
    fields = {"protocol": PROTOCOL, "python": "3.11.7", "nltk": local_nltk_version()}
    fields.update(changes)
    return fields


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"protocol": PROTOCOL + 1}, "protocol"),
        ({"python": "2.7.18"}, "Python 2.7.18"),
        ({"nltk": None}, "no NLTK"),
        ({"nltk": "3.8.1"}, "NLTK 3.8.1"),
    ],
)
def test_check_hello_refuses(changes, message):
    module = RemoteModule.resolve(needs_nltk)
    with pytest.raises(HandshakeError, match=message):
        check_hello("gw0 (popen)", hello(**changes), module)


def test_check_hello_ignores_nltk_for_tasks_that_do_not_import_it():
    check_hello("gw0 (popen)", hello(nltk=None), RemoteModule.resolve(batched_double))
