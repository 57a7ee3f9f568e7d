"""Take screenshots of pages of a running ERP Continuity, logged in as a demo user.

    .venv/bin/python scripts/shot.py --base http://127.0.0.1:8000 --user manager \
        --out /tmp/shots /dashboard/ /risks/heatmap/ [--lang zh-hans] [--width 390]

Uses Debian's /usr/bin/chromium through Playwright (no browser download)."""

from __future__ import annotations

import argparse
import pathlib
import re

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--user", default="manager")
    parser.add_argument("--password", default="demo-password")
    parser.add_argument("--out", default="/tmp/shots")
    parser.add_argument("--lang", default="en")
    parser.add_argument("--width", type=int, default=1366)
    parser.add_argument("--full", action="store_true", help="full-page screenshots")
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": args.width, "height": 900}, locale=args.lang)
        page.context.add_cookies([{"name": "django_language", "value": args.lang, "url": args.base}])
        if args.user != "anonymous":
            page.goto(f"{args.base}/accounts/login/")
            page.fill("#id_username", args.user)
            page.fill("#id_password", args.password)
            page.click("button[type=submit]")
        for path in args.paths:
            page.goto(args.base + path)
            name = re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_") or "root"
            target = out / f"{args.user}_{args.lang}_{args.width}_{name}.png"
            page.screenshot(path=str(target), full_page=args.full)
            print(target, page.title())
        browser.close()


if __name__ == "__main__":
    main()
