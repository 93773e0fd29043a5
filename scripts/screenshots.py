"""Screenshots of the main pages at phone and desktop width, for looking at by eye.

    python scripts/screenshots.py http://127.0.0.1:8000 OUTDIR [PHONE PASSWORD [PATHS]]

PATHS is a comma-separated list; ELDERLY=1 in the environment shoots in elderly mode.

Drives Debian's /usr/bin/chromium through Playwright (no browser download)."""

import os
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
            suffix = "-elderly" if os.environ.get("ELDERLY") == "1" else ""
            if suffix:
                host = base.split("//", 1)[1].split("/")[0].split(":")[0]
                page.context.add_cookies(
                    [{"name": "wenming_elderly", "value": "1", "domain": host, "path": "/"}]
                )
            page.goto(base + "/accounts/login/")
            page.screenshot(path=str(out / f"login-{width}.png"), full_page=True)
            page.fill("#id_phone", phone)
            page.fill("#id_password", password)
            page.click("button[type=submit].btn-brand")
            for path in paths:
                page.goto(base + path)
                name = path.strip("/").replace("/", "_") or "home"
                page.screenshot(path=str(out / f"{name}-{width}{suffix}.png"), full_page=True)
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
