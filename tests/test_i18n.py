"""English is a translation of the Chinese source strings: chosen only by the language
cookie (never by the browser's Accept-Language), and the catalogue is complete."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings

PO = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def parse_po(text: str) -> list[dict]:
    """The entries of a .po file: each a dict of its keywords (msgid, msgid_plural,
    msgstr, msgstr[0], ...) to their unquoted strings, plus its flags."""
    entries: list[dict] = []
    entry: dict = {"flags": set()}
    key = None
    for raw in [*text.splitlines(), ""]:
        line = raw.strip()
        if not line:
            if "msgid" in entry:
                entries.append(entry)
            entry, key = {"flags": set()}, None
        elif line.startswith("#,"):
            entry["flags"].update(f.strip() for f in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[key] += ast.literal_eval(line)
        else:
            key, _, value = line.partition(" ")
            entry[key] = ast.literal_eval(value)
    return entries


def test_po_parser_reads_plurals_and_continuations():
    entries = parse_po(
        '#, fuzzy\nmsgid ""\nmsgstr ""\n"Language: en\\n"\n\n'
        '#, python-format\nmsgid "%(n)s 个"\nmsgid_plural "%(n)s 个"\n'
        'msgstr[0] "%(n)s item"\nmsgstr[1] ""\n"%(n)s items"\n'
    )
    assert entries[0]["flags"] == {"fuzzy"}
    assert entries[0]["msgstr"] == "Language: en\n"
    assert entries[1]["msgstr[1]"] == "%(n)s items"


def test_english_catalogue_is_complete():
    entries = parse_po(PO.read_text(encoding="utf-8"))
    header, messages = entries[0], entries[1:]
    assert header["msgid"] == ""
    assert "fuzzy" not in header["flags"]
    assert len(messages) > 100
    fuzzy = [e["msgid"] for e in messages if "fuzzy" in e["flags"]]
    untranslated = [
        e["msgid"]
        for e in messages
        if any(not v for k, v in e.items() if k.startswith("msgstr"))
        or not any(k.startswith("msgstr") for k in e)
    ]
    assert fuzzy == []
    assert untranslated == []


def test_translations_keep_their_placeholders():
    import re

    placeholder = re.compile(r"%\(\w+\)[sd]")
    for e in parse_po(PO.read_text(encoding="utf-8"))[1:]:
        wanted = sorted(placeholder.findall(e["msgid"]))
        for key, value in e.items():
            if key.startswith("msgstr"):
                assert sorted(placeholder.findall(value)) == wanted, (e["msgid"], value)


def test_compiled_catalogue_is_current():
    """The committed .mo says what the .po says (compared by content: a git checkout
    gives both files arbitrary mtimes)."""
    import gettext

    assert MO.exists(), "run: make messages"
    with open(MO, "rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    stale = []
    for e in parse_po(PO.read_text(encoding="utf-8"))[1:]:
        context = e.get("msgctxt")
        if "msgid_plural" in e:
            got = [compiled.ngettext(e["msgid"], e["msgid_plural"], n) for n in (1, 2)]
            if context:
                got = [
                    compiled.npgettext(context, e["msgid"], e["msgid_plural"], n) for n in (1, 2)
                ]
            want = [e["msgstr[0]"], e["msgstr[1]"]]
        else:
            got = [
                compiled.pgettext(context, e["msgid"]) if context else compiled.gettext(e["msgid"])
            ]
            want = [e["msgstr"]]
        if got != want:
            stale.append(e["msgid"])
    assert stale == [], "django.mo is out of date: run make messages"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "english", "chinese"),
    [
        ("/", "New Era Civilization Practice Platform", "新时代文明实践平台"),
        ("/accounts/login/", "Mobile number", "手机号码"),
    ],
)
def test_anonymous_pages_follow_the_language_cookie(client, path, english, chinese):
    page = client.get(path, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert chinese in page
    assert english not in page

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(path)
    page = response.content.decode()
    assert response.headers["Content-Language"] == "en"
    assert '<html lang="en">' in page
    assert english in page
    assert chinese not in page


def test_home_in_english_with_the_cookie(client, cast, login):
    login(cast.county_admin)
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US").content.decode()
    assert "您好，县管理员" in page
    assert "操作记录" in page

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get("/").content.decode()
    assert "Hello, 县管理员" in page
    assert "Activity log" in page
    assert "Practice network" in page
    assert "Elderly mode (large text)" in page
    assert "操作记录" not in page


def test_unknown_language_cookie_falls_back_to_chinese(client, db):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    response = client.get("/accounts/login/")
    assert response.headers["Content-Language"] == "zh-hans"
    assert "手机号码" in response.content.decode()


def test_set_language_switches_to_english(client, db):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert "Mobile number" in client.get("/accounts/login/").content.decode()
