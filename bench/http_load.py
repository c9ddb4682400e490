"""Pages under gunicorn (2 workers) on loopback, beside a static file served by the same server
in the same run: `python -m bench.http_load --database-url URL [--duration 5]`.

The load generator is Debian's `wrk` (installed with apt-get when missing and possible), else a
small keep-alive Python client in a few processes. Both are bounded in time and connections and
only ever talk to 127.0.0.1. Prints requests/s, latency median/p95, and page ÷ static ratios.

PAGES is plain configuration: after the merge add the public project page, browse page and
search page, and the portal pages. `{project_id}` / `{year}` are filled from the database; a
page that answers 404 is reported as "not available" (the module is not merged yet)."""
from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import sqlalchemy as sa

from bench.common import PROJECT_ROOT, Figure, guarded, print_figures

# app: "public" (public_site) or "portal"; login: a generated username (password BENCH_PASSWORD)
PAGES = [
    {"name": "public home", "app": "public", "path": "/"},
    {"name": "public project page", "app": "public", "path": "/projects/{project_id}"},
    {"name": "public browse page", "app": "public", "path": "/projects?year={year}"},
    {"name": "public search page", "app": "public", "path": "/search?q=%E6%A3%9A%E6%88%B7%E5%8C%BA%E6%94%B9%E9%80%A0"},
    {"name": "portal dashboard", "app": "portal", "path": "/", "login": "finance"},
    {"name": "portal project list", "app": "portal", "path": "/performance/projects", "login": "finance"},
]
STATIC = {"public": "/static/css/public.css", "portal": "/static/css/portal.css"}
FACTORIES = {"public": "public_site:create_app()", "portal": "portal:create_app()"}
USER_AGENT = "jixiao-bench/1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn with 2 sync workers on a loopback port, serving one app factory."""

    def __init__(self, app: str, database_url: str, workers: int = 2):
        self.port = free_port()
        self.tmp = tempfile.mkdtemp(prefix="bench-gunicorn-")
        env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "bench-secret-key",
               "INSTANCE_DIR": self.tmp, "SEARCH_INDEX_DIR": os.environ.get("SEARCH_INDEX_DIR", self.tmp + "/index")}
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.proc = subprocess.Popen(
            [str(gunicorn), "-w", str(workers), "-b", f"127.0.0.1:{self.port}", "--log-level", "warning",
             "--timeout", "60", FACTORIES[app]],
            cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("gunicorn exited: " + self.proc.stderr.read().decode()[-500:])
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            self.stop()
            raise RuntimeError("gunicorn did not start within 30 s")
        for _ in range(2 * workers):  # let every worker import and warm up
            try:
                self.get("/")
            except OSError:
                pass

    def get(self, path: str, cookie: str = "") -> tuple[int, bytes, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"User-Agent": USER_AGENT}
        if cookie:
            headers["Cookie"] = cookie
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        conn.close()
        return response.status, body, dict(response.getheaders())

    def login(self, username: str, password: str) -> str:
        """Sign in through the real form (CSRF token and all); returns the Cookie header."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request("GET", "/login", headers={"User-Agent": USER_AGENT})
        response = conn.getresponse()
        html = response.read().decode()
        cookies = _cookies(response.headers.get_all("Set-Cookie") or [])
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
        form = {"username": username, "password": password}
        if token:
            form["csrf_token"] = token.group(1)
        conn.request("POST", "/login", body=urllib.parse.urlencode(form),
                     headers={"User-Agent": USER_AGENT, "Content-Type": "application/x-www-form-urlencoded",
                              "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())})
        response = conn.getresponse()
        response.read()
        if response.status != 302:
            raise RuntimeError(f"login as {username} failed ({response.status})")
        cookies.update(_cookies(response.headers.get_all("Set-Cookie") or []))
        conn.close()
        return "; ".join(f"{k}={v}" for k, v in cookies.items())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)


def _cookies(headers: list[str]) -> dict:
    found = {}
    for header in headers:
        name, _, rest = header.partition("=")
        found[name.strip()] = rest.split(";", 1)[0]
    return found


# ---- load generators ------------------------------------------------------------------------

WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCHJSON {"requests":%d,"duration_us":%d,"p50":%d,"p95":%d,"p99":%d,' ..
    '"errors":%d,"non2xx":%d}\\n', summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(95), latency:percentile(99), e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def ensure_wrk() -> str | None:
    """Debian's wrk, installed with apt-get when missing and we are allowed to (root)."""
    found = shutil.which("wrk")
    if found or os.environ.get("BENCH_NO_APT") == "1":
        return found
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing wrk with apt-get …", file=sys.stderr)
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=300, check=False)
    return shutil.which("wrk")


def run_wrk(wrk: str, port: int, path: str, cookie: str, duration: int, connections: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    try:
        cmd = [wrk, f"-t{min(2, connections)}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s", script.name,
               "-H", f"User-Agent: {USER_AGENT}"]
        if cookie:
            cmd += ["-H", f"Cookie: {cookie}"]
        done = subprocess.run(cmd + [f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True,
                              timeout=duration + 30)
    finally:
        os.unlink(script.name)
    if "BENCHJSON" not in done.stdout:
        raise RuntimeError(f"wrk failed: {(done.stderr or done.stdout).strip()[-300:]}")
    data = json.loads(done.stdout.split("BENCHJSON", 1)[1].strip().splitlines()[0])
    seconds = data["duration_us"] / 1e6
    return {"rps": data["requests"] / seconds, "p50_ms": data["p50"] / 1000, "p95_ms": data["p95"] / 1000,
            "errors": data["errors"] + data["non2xx"], "requests": data["requests"], "tool": "wrk"}


def _python_worker(args) -> list[float]:
    port, path, cookie, until = args
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"User-Agent": USER_AGENT, **({"Cookie": cookie} if cookie else {})}
    samples = []
    while time.time() < until:
        t0 = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        samples.append(time.perf_counter() - t0 if response.status < 400 else -1.0)
    conn.close()
    return samples


def run_python_client(port: int, path: str, cookie: str, duration: int, connections: int) -> dict:
    until = time.time() + duration
    with multiprocessing.Pool(min(connections, 4)) as pool:
        parts = pool.map(_python_worker, [(port, path, cookie, until)] * min(connections, 4))
    samples = [s for part in parts for s in part if s >= 0]
    errors = sum(1 for part in parts for s in part if s < 0)
    from bench.common import percentile
    return {"rps": (len(samples) + errors) / duration, "p50_ms": percentile(samples, 50) * 1000,
            "p95_ms": percentile(samples, 95) * 1000, "errors": errors, "requests": len(samples) + errors,
            "tool": "python"}


# ---- the benchmark --------------------------------------------------------------------------

def placeholders(database_url: str) -> dict:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.text("SELECT id, year FROM projects ORDER BY id LIMIT 1")).first()
    except Exception:
        row = None
    finally:
        engine.dispose()
    return {"project_id": row[0] if row else 1, "year": row[1] if row else 2025}


def measure(database_url: str, duration: int = 5, connections: int = 8, pages=None) -> list[Figure]:
    from bench.generate import BENCH_PASSWORD

    pages = pages or PAGES
    fill = placeholders(database_url)
    wrk = ensure_wrk()
    figures: list[Figure] = []
    for app in ("public", "portal"):
        wanted = [p for p in pages if p["app"] == app]
        if not wanted:
            continue
        server = Server(app, database_url)
        try:
            def load(path, cookie="", port=server.port):
                if wrk:
                    return run_wrk(wrk, port, path, cookie, duration, connections)
                return run_python_client(port, path, cookie, duration, connections)

            static = load(STATIC[app])
            label = f"static {STATIC[app].rsplit('/', 1)[-1]}"
            figures.append(Figure("http", f"{app} static file req/s", static["rps"], "req/s",
                                  note=f"{static['tool']}, {connections} conns, {duration}s", higher_is_better=True))
            figures.append(Figure("http", f"{app} static file median", static["p50_ms"], "ms"))
            cookies: dict[str, str] = {}
            for page in wanted:
                path = page["path"].format(**fill)
                cookie = ""
                if page.get("login"):
                    cookie = cookies.get(page["login"]) or server.login(page["login"], BENCH_PASSWORD)
                    cookies[page["login"]] = cookie
                status, _body, _headers = server.get(path, cookie)
                if status == 404:
                    figures.append(Figure("http", f"{page['name']}", None, "", note="not available (404): module not merged"))
                    continue
                if status != 200:
                    figures.append(Figure("http", f"{page['name']}", None, "", note=f"answers {status}, not measured"))
                    continue
                result = load(path, cookie)
                note = f"{result['requests']:,} requests" + (f", {result['errors']} errors" if result["errors"] else "")
                figures.append(Figure("http", f"{page['name']} req/s", result["rps"], "req/s", static["rps"], label,
                                      note, higher_is_better=True))
                figures.append(Figure("http", f"{page['name']} median", result["p50_ms"], "ms", static["p50_ms"], label))
                figures.append(Figure("http", f"{page['name']} p95", result["p95_ms"], "ms", static["p95_ms"], label))
        finally:
            server.stop()
    return figures


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--duration", type=int, default=5, help="seconds per page (bounded: at most 30)")
    parser.add_argument("--connections", type=int, default=8, help="at most 32")
    args = parser.parse_args(argv)
    figures = guarded("http", lambda: measure(args.database_url, min(args.duration, 30), min(args.connections, 32)))
    print_figures(figures)


if __name__ == "__main__":
    main()
