"""Screenshots of the main pages at phone and desktop width, for looking at by eye.

    python scripts/screenshots.py http://127.0.0.1:8000 OUTDIR [PHONE PASSWORD]

Drives Debian's /usr/bin/chromium through Playwright (no browser download)."""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main() -> None:
    base, out = sys.argv[1].rstrip("/"), Path(sys.argv[2])
    phone = sys.argv[3] if len(sys.argv) > 3 else "13800000001"
    password = sys.argv[4] if len(sys.argv) > 4 else "Demo@2026"
    paths = (
        sys.argv[5].split(",")
        if len(sys.argv) > 5
        else ["/", "/network/", "/network/units/", "/audit/"]
    )
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for width in (375, 1280):
            page = browser.new_page(viewport={"width": width, "height": 800})
            page.goto(base + "/accounts/login/")
            page.screenshot(path=str(out / f"login-{width}.png"), full_page=True)
            page.fill("#id_phone", phone)
            page.fill("#id_password", password)
            page.click("button[type=submit].btn-brand")
            for path in paths:
                page.goto(base + path)
                name = path.strip("/").replace("/", "_") or "home"
                page.screenshot(path=str(out / f"{name}-{width}.png"), full_page=True)
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
