"""Shared fixtures: the repository's paths and the CLI binary to compare with."""

import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures"
ARTICLE = ROOT / "tests" / "data" / "artikkel.txt"

#: Texts that test offsets: emoji, combining marks, CRLF, NBSP, long text.
TEXTS = [
    "Jens Stoltenberg møtte Erna Solberg i Oslo.",
    "Statoil og DNB la fram tall i Stavanger tirsdag.",
    "👋 Kari Nordmann 🇳🇴 flyttet fra Bergen til Tromsø.",
    "Hun flyttet til Tromso\u0308 i fjor, sa Ola Normann.",
    "Første linje fra Trondheim.\r\nAndre linje: Per\u00a0Hansen i Bodø.",
    "Serien har premiere på FOX kl. 2155. Hiddleston, Laurie og Colman er skuespillere.",
    "",
    "   ",
    ARTICLE.read_text(encoding="utf-8"),
]


@pytest.fixture(scope="session")
def cli():
    """Runs the norsk CLI (``NORSK_BIN``, else target/release/norsk) and returns stdout."""
    binary = os.environ.get("NORSK_BIN", str(ROOT / "target" / "release" / "norsk"))
    if not os.path.exists(binary):
        pytest.fail(f"the norsk CLI is not built at {binary}: run scripts/python.sh --test")

    def run(*args, stdin=None):
        done = subprocess.run([binary, *args], input=stdin, capture_output=True, text=True, cwd=ROOT)
        assert done.returncode in (0, 1), done.stderr
        return done.stdout

    return run
