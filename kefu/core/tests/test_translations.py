from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "en" / "LC_MESSAGES"


def test_every_string_has_an_english_translation() -> None:
    po = (LOCALE / "django.po").read_text(encoding="utf-8")
    untranslated, doubled = [], []
    for block in po.split("\n\n")[1:]:
        m = re.search(r'^msgid ((?:".*"\n)+)msgstr ((?:".*"\n?)+)', block, re.M)
        if not m:
            continue
        english = "".join(re.findall(r'"(.*)"', m.group(2)))
        if not english:
            untranslated.append("".join(re.findall(r'"(.*)"', m.group(1))))
        elif len(english) > 40 and english.count(english[:30]) > 1:
            doubled.append(english)
    assert doubled == [], "a translation repeats itself"
    assert untranslated == [], "run `make messages` and translate: " + ", ".join(untranslated)


@pytest.mark.parametrize("language", ["en", "zh_Hans"])
def test_compiled_catalogue_matches_the_source(tmp_path: Path, language: str) -> None:
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("msgfmt (gettext) is not installed")
    catalogue = LOCALE.parents[1] / language / "LC_MESSAGES"
    out = tmp_path / "django.mo"
    subprocess.run([msgfmt, "-o", str(out), str(catalogue / "django.po")], check=True)
    assert out.read_bytes() == (catalogue / "django.mo").read_bytes(), "run `make messages`"
