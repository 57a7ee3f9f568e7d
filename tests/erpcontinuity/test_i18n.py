"""The interface speaks English and Simplified Chinese: every marked string has a translation,
the compiled catalogue matches the source catalogue, and pages render in Chinese."""

from __future__ import annotations

import ast
import gettext
import pathlib
import re

import pytest
from django.conf import settings
from django.urls import reverse

LOCALE = pathlib.Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"
PO = LOCALE / "django.po"
MO = LOCALE / "django.mo"
APPS = ["erpcontinuity", "plans", "risks", "incidents", "monitoring", "backups", "drills", "training"]


def _unquote(chunks: list[str]) -> str:
    return "".join(ast.literal_eval(c) for c in chunks)


def parse_po(path: pathlib.Path) -> list[dict]:
    """A small .po reader: enough for msgctxt/msgid/msgid_plural/msgstr[n] and flags."""
    entries, current, key = [], None, None
    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line:
            if current and "msgid" in current.get("_chunks", {}):
                entries.append(current)
            current, key = None, None
            continue
        if current is None:
            current = {"flags": set(), "msgstr": {}}
        if line.startswith("#,"):
            current["flags"].update(f.strip() for f in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            current.setdefault("_chunks", {}).setdefault(key, []).append(line)
        else:
            key, _, value = line.partition(" ")
            current.setdefault("_chunks", {})[key] = [value]
    for entry in entries:
        for key, chunks in entry.pop("_chunks").items():
            if key.startswith("msgstr"):
                index = int(key[7:-1]) if "[" in key else 0
                entry["msgstr"][index] = _unquote(chunks)
            else:
                entry[key] = _unquote(chunks)
    return entries


@pytest.fixture(scope="module")
def entries():
    assert PO.exists(), "locale/zh_Hans/LC_MESSAGES/django.po is missing: run makemessages -l zh_Hans"
    found = [e for e in parse_po(PO) if e["msgid"]]
    assert len(found) > 500, "the catalogue looks empty or unreadable"
    return found


def test_every_string_of_the_catalogue_is_translated(entries):
    missing = [e["msgid"] for e in entries if not all(v.strip() for v in e["msgstr"].values())]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert not missing, f"{len(missing)} untranslated, e.g. {missing[:5]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy (ignored by Django), e.g. {fuzzy[:5]}"


def test_the_compiled_catalogue_matches_the_source(entries):
    with MO.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)._catalog
    stale = []
    for e in entries:
        msgid = e["msgid"] if "msgctxt" not in e else f"{e['msgctxt']}\x04{e['msgid']}"
        key = (msgid, 0) if "msgid_plural" in e else msgid
        if catalog.get(key) != e["msgstr"][0]:
            stale.append(e["msgid"])
    assert not stale, f"django.mo is older than django.po (run compilemessages): {stale[:5]}"


TEMPLATE_TRANSLATE = re.compile(r"""{%\s*(?:translate|trans)\s+(?P<q>["'])(?P<s>.*?)(?P=q)(?:\s+[^%]*)?%}""")
PY_GETTEXT = re.compile(r"""\b_\(\s*(?P<q>["'])(?P<s>(?:\\.|(?!(?P=q)).)*)(?P=q)\s*\)""")


def _marked_strings() -> set[str]:
    base = pathlib.Path(settings.BASE_DIR)
    found: set[str] = set()
    for template in (base / "templates").rglob("*.html"):
        found.update(m.group("s") for m in TEMPLATE_TRANSLATE.finditer(template.read_text(encoding="utf-8")))
    for app in APPS:
        for source in (base / app).rglob("*.py"):
            if "migrations" in source.parts:
                continue
            for m in PY_GETTEXT.finditer(source.read_text(encoding="utf-8")):
                try:
                    found.add(ast.literal_eval(m.group("q") + m.group("s") + m.group("q")))
                except (SyntaxError, ValueError):
                    continue
    return found


def test_every_marked_string_in_templates_and_code_is_in_the_catalogue(entries):
    known = {e["msgid"] for e in entries}
    missing = sorted(s for s in _marked_strings() if s and s not in known)
    assert not missing, f"{len(missing)} strings not in django.po (run makemessages), e.g. {missing[:8]}"


@pytest.mark.django_db
def test_pages_render_in_chinese_when_chosen(manager_client):
    manager_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    body = manager_client.get(reverse("dashboard")).content.decode()
    assert 'lang="zh-hans"' in body
    assert "仪表" in body or "概览" in body  # the dashboard heading, in Chinese


@pytest.mark.django_db
def test_the_language_switcher_remembers_the_choice(manager_client):
    response = manager_client.post(reverse("set_language"), {"language": "zh-hans", "next": "/dashboard/"})
    assert response.status_code == 302
    assert manager_client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
