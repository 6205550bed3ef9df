"""Take the README's screenshots of the demo district in headless Chromium.

Usage: .venv/bin/python scripts/screenshots.py [--db data/demo-shots.duckdb]
Builds the demo store if the file does not exist, serves it on a free loopback port, logs in as
each role's demo account and saves docs/screenshots/<page>.png (the login form, and each page
as the role that uses it). A page address opened in the same browser keeps the login (the
session cookie).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures.live_server import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    MENU_LINK,
    running_server,
)

OUT = ROOT / "docs" / "screenshots"
PASSWORD = "demo1234"
# file name -> (demo account, page address); the README shows the first three, the user guide all
SHOTS = {
    "overview": ("demo_leader", "overview"),
    "ranking": ("demo_leader", "ranking"),
    "effects": ("demo_leader", "effects"),
    "taskforces": ("demo_head", "taskforces"),
    "profile": ("demo_leader", "profile"),
    "upload": ("demo_analyst", "upload"),
    "glossary": ("demo_leader", "glossary"),
}


def wait_idle(page) -> None:
    page.wait_for_timeout(1500)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=180_000)
    page.wait_for_timeout(2500)


def shoot(page, name: str) -> None:
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=False)
    print(OUT / f"{name}.png")


def log_in(browser, base: str, username: str):
    page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
    page.goto(base)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_selector(MENU_LINK, timeout=180_000)
    wait_idle(page)
    return page


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=str(ROOT / "data" / "demo-shots.duckdb"))
    args = parser.parse_args()
    if not Path(args.db).exists():
        subprocess.run([sys.executable, "-m", "analytics", "--db", args.db, "demo"], cwd=ROOT, check=True)
    with running_server(args.db) as base:
        OUT.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
            page.goto(base)
            page.get_by_label("用户名").wait_for(timeout=180_000)
            wait_idle(page)
            shoot(page, "login")
            page.close()
            pages = {}
            for name, (user, address) in SHOTS.items():
                if user not in pages:
                    pages[user] = log_in(browser, base, user)
                page = pages[user]
                page.goto(f"{base}/{address}")
                page.wait_for_selector(MENU_LINK, timeout=180_000)
                wait_idle(page)
                shoot(page, name)
            browser.close()


if __name__ == "__main__":
    main()
