"""Every environment variable settings.py reads is documented in .env.example."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# env("NAME", ...), env.str("NAME", ...), env.bool(...), env.db(...), env.cache(...), env.email_url(...)
READ = re.compile(r"""\benv(?:\.[a-z_]+)?\(\s*["']([A-Z][A-Z0-9_]*)["']""")
DOCUMENTED = re.compile(r"^\s*#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)


def _read_by_settings() -> set[str]:
    return set(READ.findall((ROOT / "erpcontinuity" / "settings.py").read_text()))


def _documented() -> set[str]:
    return set(DOCUMENTED.findall((ROOT / ".env.example").read_text()))


def test_settings_read_the_variables_we_expect():
    # Guards the pattern itself: if it stopped matching, the next test would pass vacuously.
    assert {"DEBUG", "SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "EMAIL_URL"} <= _read_by_settings()


def test_every_variable_settings_read_is_in_env_example():
    missing = sorted(_read_by_settings() - _documented())
    assert missing == [], f"add these to .env.example with a comment: {missing}"


def test_every_variable_in_env_example_has_a_comment():
    lines = (ROOT / ".env.example").read_text().splitlines()
    for number, line in enumerate(lines):
        if re.match(r"^[A-Z][A-Z0-9_]*=", line):
            above = lines[number - 1].strip()
            # A comment right above, or a run of variables sharing the comment above them.
            assert above.startswith("#") or re.match(r"^[A-Z][A-Z0-9_]*=", above), line
