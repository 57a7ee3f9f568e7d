"""Crawl the site on the demo data as every demo role, in English and Chinese.

From the landing page, follow every same-site GET link breadth-first and check each page: no server
error, no broken link, and every HTML page has a <title> and an <h1>. In Chinese, the navigation and
the title are translated, neither the <h1> nor a navigation link is left in English (unless it is
the user's own data, such as a plan's title), and no label (table header, term, form label, button,
field name) shows an English word that our catalog translates. All problems are collected and
reported together, with the role, the language and the page.
"""

import re
import time
from collections import Counter, deque
from html.parser import HTMLParser
from io import StringIO
from urllib.parse import urljoin, urlsplit

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import CharField, TextField
from django.http import HttpResponse
from django.test import Client, override_settings
from django.utils import translation

pytestmark = pytest.mark.django_db

FAST_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"
ROLES = ["admin", "ops", "manager", "business"]
LANGUAGES = ["en", "zh-hans"]
MAX_PAGES = 400  # per role and language
PER_PATTERN = 3  # pages per URL pattern (digits collapsed), e.g. three plan detail pages
# Not pages of ours: assets, Django's admin, the JavaScript catalog, the language switch (a POST).
SKIP_PREFIXES = ("/static/", "/media/", "/admin/", "/jsi18n/", "/i18n/")
# Pages that are ours only in name: the API (JSON, DRF's browsable API, Swagger UI) is checked for
# server errors but not for our page conventions.
NOT_OUR_LAYOUT = ("/api/",)
PROJECT_APPS = {"plans", "risks", "incidents", "backups", "monitoring", "drills", "training"}
# Elements whose text is our UI's wording: a data table's headers, a definition list's terms, form
# labels, buttons, and the field names the audit trail shows in <strong>.
LABEL_TAGS = {"th", "dt", "label", "legend", "button", "strong"}
CJK = re.compile(r"[\u4e00-\u9fff]")


class _Page(HTMLParser):
    """The parts of a page the crawl checks: links, <title>, <h1>s, the main <nav>, the labels."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.title: str | None = None
        self.h1s: list[str] = []
        self.nav_links: list[str] = []
        self.nav_text = ""
        self.labels: list[str] = []  # texts of table headers, terms, form labels, buttons, field names
        self._label_starts: list[int] = []
        self._in: Counter = Counter()
        self._text: dict[str, list[str]] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag in ("svg", "article"):
            # An SVG chart's <title>s are tooltips, not the page's title; an <article> is
            # user-written content (a course's text), not our wording.
            self._in[tag] += 1
        if tag == "nav" and ("mainnav" in (attrs.get("class") or "") or self._in["mainnav"]):
            self._in["mainnav"] += 1
        if tag in LABEL_TAGS and not self._in["article"]:
            self._label_starts.append(len(self._text.setdefault("label", [])))
        if (
            (tag == "title" and not self._in["svg"] and self.title is None)
            or tag == "h1"
            or (tag == "a" and self._in["mainnav"])
        ):
            key = "navlink" if tag == "a" else tag
            self._in[key] += 1
            self._text[key] = []

    def handle_endtag(self, tag):
        if tag in ("svg", "article") and self._in[tag]:
            self._in[tag] -= 1
        if tag == "nav" and self._in["mainnav"]:
            self._in["mainnav"] -= 1
        if tag in LABEL_TAGS and self._label_starts and not self._in["article"]:
            text = " ".join("".join(self._text["label"][self._label_starts.pop() :]).split())
            if text:
                self.labels.append(text)
            if not self._label_starts:
                del self._text["label"]
        key = "navlink" if tag == "a" and self._in["navlink"] else tag
        if key in ("title", "h1", "navlink") and self._in[key]:
            self._in[key] -= 1
            text = " ".join("".join(self._text.pop(key, [])).split())
            if key == "title":
                self.title = text
            elif key == "h1":
                self.h1s.append(text)
            else:
                self.nav_links.append(text)

    def handle_data(self, data):
        for key in self._text:
            self._text[key].append(data)
        if self._in["mainnav"]:
            self.nav_text += data


def _pattern(url: str) -> str:
    """One key for /plans/12/ and /plans/13/; the query's keys count, not their values."""
    parts = urlsplit(url)
    keys = sorted({pair.split("=")[0] for pair in parts.query.split("&") if pair})
    return re.sub(r"\d+", "N", parts.path) + ("?" + "&".join(keys) if keys else "")


def _followable(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme not in ("", "http") or parts.netloc not in ("", "testserver"):
        return False
    path = parts.path
    return path.startswith("/") and not path.startswith(SKIP_PREFIXES) and "logout" not in path


def _stored_strings() -> set[str]:
    """Every text stored in the project's tables. A page heading that is one of them is the user's
    data (a plan titled "Data loss or corruption"), not our UI left in English."""
    strings: set[str] = set()
    for model in apps.get_models():
        if model._meta.app_label not in PROJECT_APPS or model._meta.proxy:
            continue
        fields = [f.name for f in model._meta.concrete_fields if isinstance(f, CharField | TextField) and not f.choices]
        for row in model.objects.values_list(*fields) if fields else []:
            strings.update(" ".join(value.split()) for value in row if isinstance(value, str) and value)
    return strings


def _left_in_english(text: str, stored: set[str]) -> bool:
    """True when a heading or a navigation label shown in Chinese is English words of ours: it has
    letters but no Chinese character, and it is not the user's own data (a plan title, a code)."""
    return bool(re.search(r"[A-Za-z]{2}", text)) and not CJK.search(text) and text not in stored


def _check_page(lang: str, page: _Page, stored: set[str]) -> list[str]:
    problems = []
    if not page.title:
        problems.append("no <title>")
    if not page.h1s or not page.h1s[0]:
        problems.append("no <h1>")
    if lang == "en":
        return problems
    if page.title and not CJK.search(page.title):
        problems.append(f"<title> not translated: {page.title!r}")
    for h1 in page.h1s:
        if _left_in_english(h1, stored):
            problems.append(f"<h1> not translated: {h1!r}")
    if page.nav_text.strip() and not CJK.search(page.nav_text):
        problems.append(f"navigation not translated: {' '.join(page.nav_text.split())!r}")
    untranslated = [text for text in page.nav_links if _left_in_english(text, stored)]
    if untranslated:
        problems.append(f"navigation links not translated: {untranslated}")
    # A label may well be data (a service's name as a table header), so only the words our
    # catalog translates count, and only where they are not part of what the user wrote.
    labels = sorted({text for text in page.labels if _catalog_translates(text) and text not in stored})
    if labels:
        problems.append(f"labels not translated: {labels}")
    return problems


def _catalog_translates(text: str) -> bool:
    """True when `text` is English that our catalog (or Django's) has a Chinese translation for."""
    if CJK.search(text) or not re.search(r"[A-Za-z]{2}", text):
        return False
    with translation.override("zh-hans"):
        return translation.gettext(text) != text


def _crawl(client: Client, lang: str, stored: set[str]) -> tuple[list[tuple[str, str]], int]:
    """Visit the site from its landing page; return the (url, problem) pairs and pages fetched."""
    problems: list[tuple[str, str]] = []
    queue: deque[tuple[str, str]] = deque([("/", "start")])
    seen = {"/"}
    per_pattern: Counter = Counter()
    fetched = 0
    while queue and fetched < MAX_PAGES:
        url, referrer = queue.popleft()
        response = client.get(url)
        fetched += 1
        status = response.status_code
        if status >= 500:
            problems.append((url, f"HTTP {status} (linked from {referrer})"))
            continue
        if status == 404:
            problems.append((url, f"broken link: HTTP 404 (linked from {referrer})"))
            continue
        if status == 403:
            problems.append((url, f"link to a forbidden page: HTTP 403 (linked from {referrer})"))
            continue
        if status in (301, 302, 303, 307, 308):
            hrefs = [response["Location"]]
        elif status != 200:
            problems.append((url, f"HTTP {status} (linked from {referrer})"))
            continue
        elif not response.get("Content-Type", "").startswith("text/html") or getattr(response, "streaming", False):
            continue  # a download (CSV, PDF, iCalendar, JSON): fetching it without a server error is enough
        else:
            page = _Page()
            page.feed(response.content.decode(response.charset or "utf-8"))
            if not urlsplit(url).path.startswith(NOT_OUR_LAYOUT):
                problems.extend((url, problem) for problem in _check_page(lang, page, stored))
            hrefs = page.links
        for href in hrefs:
            target = urljoin("http://testserver" + url, href.strip())
            if not _followable(target):
                continue
            parts = urlsplit(target)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target in seen or per_pattern[_pattern(target)] >= PER_PATTERN:
                continue
            seen.add(target)
            per_pattern[_pattern(target)] += 1
            queue.append((target, url))
    return problems, fetched


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo data, loaded once for this module and rolled back after it."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=[FAST_HASHER]), transaction.atomic():
        call_command("load_demo", stdout=StringIO())
        yield
        transaction.set_rollback(True)


def test_every_page_reachable_by_every_role_works_in_both_languages(demo, capsys):
    failures = []
    coverage = []
    stored = _stored_strings()
    for username in ROLES:
        user = User.objects.get(username=username)
        for lang in LANGUAGES:
            client = Client(HTTP_ACCEPT_LANGUAGE=lang)
            client.cookies["django_language"] = lang
            client.force_login(user)
            started = time.monotonic()
            problems, fetched = _crawl(client, lang, stored)
            coverage.append(f"{username}/{lang}: {fetched} pages in {time.monotonic() - started:.1f} s")
            failures.extend(f"[{username} {lang}] {url}: {problem}" for url, problem in problems)
            # A crawl that reached almost nothing is a broken start page, not a clean site.
            assert fetched >= 10, f"{username}/{lang} reached only {fetched} pages"
    with capsys.disabled():
        print(f"\ncrawl on {connection.vendor}: " + "; ".join(coverage))
    assert not failures, f"{len(failures)} problems:\n" + "\n".join(failures)


# --- The crawler's own checks, on made-up pages: each problem it should report, it does ----------

NAV = '<nav class="mainnav"><ul><li><a href="/">{}</a></li></ul></nav>'


def _html(title="计划 · ERP 业务连续性", h1="应急预案", nav="应急预案", body=""):
    head = f"<title>{title}</title>" if title is not None else ""
    heading = f"<h1>{h1}</h1>" if h1 is not None else ""
    return f"<html><head>{head}</head><body>{NAV.format(nav)}<main>{heading}{body}</main></body></html>"


def _problems(html: str, lang: str = "zh-hans", stored=frozenset()) -> list[str]:
    page = _Page()
    page.feed(html)
    return _check_page(lang, page, set(stored))


def test_a_translated_page_passes():
    chart = "<svg><title>Open incidents: 3</title></svg>"
    assert _problems(_html(body=chart)) == []


def test_it_reports_a_page_without_title_or_heading():
    assert _problems(_html(title=None, h1=None), lang="en") == ["no <title>", "no <h1>"]


def test_it_reports_english_left_in_a_chinese_page():
    problems = _problems(_html(title="Plans · ERP Continuity", h1="Emergency plans", nav="Plans"))
    assert problems == [
        "<title> not translated: 'Plans · ERP Continuity'",
        "<h1> not translated: 'Emergency plans'",
        "navigation not translated: 'Plans'",
        "navigation links not translated: ['Plans']",
    ]


def test_it_reports_labels_the_catalog_translates_but_not_the_users_own_text():
    body = (
        "<table><tr><th>Service</th><th>ERP-DB</th></tr></table><div><strong>Created by</strong>: 3</div>"
        "<article><p><strong>Report</strong> suspicious emails.</p></article>"
    )
    assert _problems(_html(body=body)) == ["labels not translated: ['Created by', 'Service']"]


def test_a_heading_that_is_the_users_data_may_stay_in_english():
    assert _problems(_html(h1="Data loss or corruption"), stored={"Data loss or corruption"}) == []


class _FakeClient:
    """Serves a few made-up pages to the crawler."""

    def __init__(self, pages):
        self.pages = pages
        self.fetched = []

    def get(self, url):
        self.fetched.append(url)
        status, content = self.pages.get(url, (404, ""))
        if status == 302:
            response = HttpResponse(status=302)
            response["Location"] = content
            return response
        return HttpResponse(content, status=status)


def test_the_crawler_reports_server_errors_and_broken_links_and_skips_logout_and_assets():
    links = "".join(
        f'<a href="{href}">x</a>'
        for href in ["/boom/", "/gone/", "/accounts/logout/", "/static/app.css", "https://example.com/", "#top"]
    )
    client = _FakeClient({"/": (302, "/home/"), "/home/": (200, _html(body=links)), "/boom/": (500, "")})
    problems, fetched = _crawl(client, "en", set())
    assert client.fetched == ["/", "/home/", "/boom/", "/gone/"]
    assert problems == [
        ("/boom/", "HTTP 500 (linked from /home/)"),
        ("/gone/", "broken link: HTTP 404 (linked from /home/)"),
    ]


def test_the_crawler_visits_a_few_pages_per_url_pattern():
    links = "".join(f'<a href="/plans/{n}/">plan</a>' for n in range(1, 10))
    client = _FakeClient({"/": (200, _html(body=links))} | {f"/plans/{n}/": (200, _html()) for n in range(1, 10)})
    _crawl(client, "en", set())
    assert client.fetched == ["/", "/plans/1/", "/plans/2/", "/plans/3/"]
