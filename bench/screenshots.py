"""Screenshots of the pages issue 18 added, for the README: the grouped menu and the breadcrumb
trail, a list with its bulk bar (letters, conference actions) and a bulk action's report, the
portal search, a letter's page with its timeline, the publishing preview, and the public search
on a phone — each at desktop (1280 px) and phone (390 px) widths.

    .venv/bin/python -m bench.screenshots [--out docs/screenshots]

Seeds the demo city into a throw-away SQLite database, serves the public site at / and the portal
at /portal/ (as `make run` does) on a free port and drives Debian's chromium through Playwright,
signed in as the demo finance officer. Not a test: it asserts nothing; the pages are checked by
tests/core/test_navigation.py, tests/browser/test_portal_axe_browser.py and the bulk tests."""
from __future__ import annotations

import argparse
import tempfile
import threading
from pathlib import Path

from portal.config import PROJECT_ROOT

CHROMIUM = "/usr/bin/chromium"
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def demo_city(root: Path) -> tuple[object, str]:
    """The combined app over a freshly seeded demo city in `root`."""
    from werkzeug.security import generate_password_hash

    from portal.accounts import models as account_models
    from portal.core.migrations_check import upgrade
    from portal.demo import seed
    from portal.devserver import create_combined_app
    from portal.extensions import db
    from portal.publishing.search import health
    from portal.search import index as portal_index

    url = f"sqlite:///{root / 'demo.db'}"
    config = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "screenshots", "INSTANCE_DIR": str(root / "instance"),
              "UPLOAD_DIR": str(root / "uploads"), "SEARCH_INDEX_DIR": str(root / "index"),
              "PORTAL_INDEX_DIR": str(root / "portal-index"), "RATELIMIT_ENABLED": False, "LOG_FORMAT": "text"}
    upgrade(url)
    app, portal_app = create_combined_app(config, config)
    scrypt = account_models.generate_password_hash  # a cheap hash keeps the seeding fast
    account_models.generate_password_hash = lambda password, method=None: generate_password_hash(
        password, "pbkdf2:sha256:1")
    try:
        with portal_app.app_context():
            seed()
            health.wait_for_rebuilds(120)  # the public index the seeding started
            portal_index.rebuild()  # and the portal's (the worker builds it after `make run`)
            db.session.remove()
    finally:
        account_models.generate_password_hash = scrypt
    return app, url


def serve(app) -> str:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}"


def shoot(base: str, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from portal.demo import DEMO_PASSWORD

    taken = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page(base_url=base, locale="zh-CN")
        page.goto("/portal/login")
        page.get_by_label("用户名").fill("finance")
        page.get_by_label("密码").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url("**/portal/")

        def save(name, width, full_page=True):
            path = out / f"{name}-{width}.png"
            page.screenshot(path=str(path), full_page=full_page)
            taken.append(path)

        for width, size in WIDTHS.items():
            page.set_viewport_size(size)
            # the grouped menu, one group open, over the ledger with its breadcrumb
            page.goto("/portal/ledger/")
            page.locator("nav.mainnav summary", has_text="协同监督").click()
            save("portal-menu", width, full_page=False)
            # a record's breadcrumb trail: 工作台 › 项目与绩效 › project › 绩效目标
            page.goto("/portal/projects")
            page.locator("table.grid tbody a").first.click()
            page.get_by_role("link", name="绩效目标").first.click()
            save("portal-breadcrumbs", width, full_page=False)
            # the letter list with two rows ticked and the bulk bar
            page.goto("/portal/inquiries/")
            for box in page.locator("table.grid input[name=ids]").all()[:2]:
                box.check()
            page.locator("fieldset.bulk").scroll_into_view_if_needed()
            save("portal-letters-bulk", width)
            # a bulk step on the conference actions and its report (the refused rows named)
            page.goto("/portal/conference/actions")
            for box in page.locator("table.grid input[name=ids]").all()[:3]:
                box.check()
            page.locator("fieldset.bulk select[name=action]").select_option("start")
            page.locator("fieldset.bulk").get_by_role("button", name="执行").click()
            page.wait_for_load_state()
            save("portal-actions-bulk", width)
            # the portal search, grouped by kind
            page.goto("/portal/search/?q=整改")
            save("portal-search", width)
            # a letter's page: items, working days left and its timeline
            page.goto("/portal/inquiries/")
            page.locator("table.grid tbody a").first.click()
            page.wait_for_load_state()
            save("portal-letter", width)
            # the publishing preview: what is new, changed and withdrawn first
            page.goto("/portal/publishing/")
            for box in page.locator("input[name=kinds]").all():
                box.check()
            page.get_by_role("button", name="预览公开内容").click()
            page.wait_for_load_state()
            save("portal-publishing-preview", width)
            # the public search on a phone (and the desktop beside it)
            page.goto("/search?q=改造")
            save("public-search-filters", width)
        browser.close()
    return taken


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(PROJECT_ROOT / "docs" / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        app, _url = demo_city(Path(tmp))
        for path in shoot(serve(app), out):
            print(path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path)


if __name__ == "__main__":
    main()
