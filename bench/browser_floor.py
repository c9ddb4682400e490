"""What a browser test's steps cost before the portal does anything: Debian's chromium driven
through Playwright, as tests/conftest.py launches it, navigating to a bare static page (the
baseline) and to the portal's login page (the combined app as `make run` serves it, over an
empty migrated SQLite database), typing into a field, and opening a fresh browser context (each
browser test gets one). Wall time per step, and chromium's own CPU time per step (every
chromium process, from /proc).

    .venv/bin/python -m bench.browser_floor [--steps 40]

Not a test: it asserts nothing. On a 2-core machine the suite's browser journeys are bounded by
these figures times their steps (tests/browser/, the *_browser.py files)."""
from __future__ import annotations

import argparse
import logging
import os
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",  # as tests/conftest.py's `browser`
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
BARE = (b"<!doctype html><html lang=zh><head><meta charset=utf-8><title>bare</title></head><body>"
        + "<p>预算绩效管理</p>".encode() * 200 + b"<input name=q></body></html>")


class _Bare(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(BARE)))
        self.end_headers()
        self.wfile.write(BARE)

    def log_message(self, *_args):
        pass


def _serve_bare() -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Bare)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}/"


def _serve_portal(root: Path) -> str:
    from werkzeug.serving import make_server

    from portal.core.migrations_check import upgrade
    from portal.devserver import create_combined_app

    url = f"sqlite:///{root / 'bench.db'}"
    upgrade(url)
    config = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "browser-floor", "INSTANCE_DIR": str(root / "instance"),
              "UPLOAD_DIR": str(root / "uploads"), "SEARCH_INDEX_DIR": str(root / "index"),
              "PORTAL_INDEX_DIR": str(root / "portal-index"), "LOG_FORMAT": "text"}
    app, _portal = create_combined_app(config, config)
    for name in ("werkzeug", "portal.request"):  # a line per request would bury the figures
        logging.getLogger(name).setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}/portal/login"


def chromium_cpu() -> float:
    """CPU seconds used so far by every chromium process."""
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if b"chromium" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                continue
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def measure(label: str, steps: int, step) -> None:
    step()  # warm
    cpu, start = chromium_cpu(), time.perf_counter()
    for _ in range(steps):
        step()
    wall, used = (time.perf_counter() - start) / steps, (chromium_cpu() - cpu) / steps
    print(f"{label:<34} {wall * 1000:7.1f} ms wall {used * 1000:7.1f} ms chromium CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=40)
    steps = parser.parse_args().steps
    if not os.path.exists(CHROMIUM):
        print(f"{CHROMIUM} is missing (apt-get install chromium): nothing measured")
        return
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="browser-floor-") as root, sync_playwright() as playwright:
        bare, login = _serve_bare(), _serve_portal(Path(root))
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_context(locale="zh-CN").new_page()
        print(f"chromium {browser.version}, {steps} steps each")
        measure("navigate to a bare page (baseline)", steps, lambda: page.goto(bare))
        measure("navigate to the portal's login page", steps, lambda: page.goto(login))
        measure("fill a field and read it back", steps,
                lambda: (page.fill("#username", "finance"), page.input_value("#username")))

        def fresh_context():
            context = browser.new_context(locale="zh-CN")
            context.new_page().goto(bare)
            context.close()
        measure("new context, one page, close", max(steps // 4, 1), fresh_context)
        browser.close()


if __name__ == "__main__":
    main()
