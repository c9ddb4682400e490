"""Pages under gunicorn (2 workers) on loopback, beside a static file served by the same server
in the same run: `python -m bench.http_load --database-url URL [--duration 5]`.

The load generator is Debian's `wrk` (installed with apt-get when missing and possible), else a
small keep-alive Python client in a few processes. Both are bounded in time and connections and
only ever talk to 127.0.0.1. Prints requests/s, latency median/p95, and page ÷ static ratios.

PAGES is plain configuration. `{project_id}` (a published project with a report) and `{year}` are
filled from the database; "paths" pages draw each request from 2,000 seeded paths (projects,
browse filters, search queries), so that what is measured is rendering, not the page cache.
Public search pages need the index (`--index-dir`, built by `bench.search_bench`)."""
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

# app: "public" (public_site) or "portal"; login: a generated username (password BENCH_PASSWORD).
# "paths": a list of paths drawn at random per request (many different pages, so the page cache
# rarely helps) instead of one path requested over and over (a popular page, served from it).
PAGES = [
    {"name": "public home", "app": "public", "path": "/"},
    {"name": "public project page (one page)", "app": "public", "path": "/projects/{project_id}"},
    {"name": "public project page (random of 2,000)", "app": "public", "paths": "projects"},
    {"name": "public browse page (results, one year)", "app": "public", "path": "/results?year={year}"},
    {"name": "public browse page (random filters)", "app": "public", "paths": "browse"},
    {"name": "public search page", "app": "public", "path": "/search?q=%E6%A3%9A%E6%88%B7%E5%8C%BA%E6%94%B9%E9%80%A0"},
    {"name": "public search page (random queries)", "app": "public", "paths": "searches"},
    {"name": "portal dashboard", "app": "portal", "path": "/", "login": "finance"},
    {"name": "portal project list", "app": "portal", "path": "/projects", "login": "finance"},
]
RANDOM_PATHS = 2_000
STATIC = {"public": "/static/css/public.css", "portal": "/static/css/portal.css"}
FACTORIES = {"public": "public_site:create_app()", "portal": "portal:create_app()"}
USER_AGENT = "jixiao-bench/1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn with 2 sync workers on a loopback port, serving one app factory."""

    def __init__(self, app: str, database_url: str, workers: int = 2, index_dir: str | None = None):
        self.port = free_port()
        self.tmp = tempfile.mkdtemp(prefix="bench-gunicorn-")
        env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "bench-secret-key",
               "INSTANCE_DIR": self.tmp, "SEARCH_INDEX_DIR": index_dir or self.tmp + "/index"}
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
# Many paths: each wrk thread draws one at random per request (its own seed).
WRK_PATHS = """
local threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
function init(args) math.randomseed(tid * 7919) end
request = function() return wrk.format("GET", paths[math.random(#paths)]) end
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


def run_wrk(wrk: str, port: int, paths: list[str], cookie: str, duration: int, connections: int) -> dict:
    script_text = WRK_SCRIPT
    if len(paths) > 1:
        script_text += "paths = {" + ",".join(json.dumps(p) for p in paths) + "}\n" + WRK_PATHS
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(script_text)
    try:
        cmd = [wrk, f"-t{min(2, connections)}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s", script.name,
               "-H", f"User-Agent: {USER_AGENT}"]
        if cookie:
            cmd += ["-H", f"Cookie: {cookie}"]
        done = subprocess.run(cmd + [f"http://127.0.0.1:{port}{paths[0]}"], capture_output=True, text=True,
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
    import random

    port, paths, cookie, until, seed = args
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"User-Agent": USER_AGENT, **({"Cookie": cookie} if cookie else {})}
    samples = []
    while time.time() < until:
        t0 = time.perf_counter()
        conn.request("GET", rng.choice(paths), headers=headers)
        response = conn.getresponse()
        response.read()
        samples.append(time.perf_counter() - t0 if response.status < 400 else -1.0)
    conn.close()
    return samples


def run_python_client(port: int, paths: list[str], cookie: str, duration: int, connections: int) -> dict:
    until = time.time() + duration
    workers = min(connections, 4)
    with multiprocessing.Pool(workers) as pool:
        parts = pool.map(_python_worker, [(port, paths, cookie, until, seed) for seed in range(workers)])
    samples = [s for part in parts for s in part if s >= 0]
    errors = sum(1 for part in parts for s in part if s < 0)
    from bench.common import percentile
    return {"rps": (len(samples) + errors) / duration, "p50_ms": percentile(samples, 50) * 1000,
            "p95_ms": percentile(samples, 95) * 1000, "errors": errors, "requests": len(samples) + errors,
            "tool": "python"}


# ---- the benchmark --------------------------------------------------------------------------

def placeholders(database_url: str) -> dict:
    """A published project with the fullest page (goals, results, report), the latest year, and
    RANDOM_PATHS paths of each random kind (seeded: the same paths every run)."""
    import random

    from bench.search_bench import QUERIES

    rng = random.Random(1)
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            year = conn.execute(sa.text("SELECT max(year) FROM projects")).scalar() or 2025
            report = conn.execute(sa.text("SELECT min(project_ref) FROM pub_snapshots WHERE kind = 'report' "
                                          "AND current")).scalar()
            refs = [r for (r,) in conn.execute(sa.text(
                "SELECT DISTINCT project_ref FROM pub_snapshots WHERE current ORDER BY project_ref"))]
            departments = [d for (d,) in conn.execute(sa.text(
                "SELECT DISTINCT department_ref FROM pub_snapshots ORDER BY department_ref"))]
    finally:
        engine.dispose()
    projects = [f"/projects/{r}" for r in rng.sample(refs, min(RANDOM_PATHS, len(refs)))] or ["/projects/1"]
    browse = []
    for _ in range(RANDOM_PATHS):
        filters = {"year": rng.choice((year - 2, year - 1, year)), "grade": rng.choice(("", "excellent", "good",
                                                                                          "fair", "poor"))}
        if departments and rng.random() < 0.5:
            filters["department"] = rng.choice(departments)
        query = urllib.parse.urlencode({k: v for k, v in filters.items() if v})
        browse.append(f"/{rng.choice(('goals', 'results'))}?{query}&page={rng.randint(1, 3)}")
    searches = []
    for _ in range(RANDOM_PATHS):
        q, filters, sort = rng.choice(QUERIES)
        searches.append("/search?" + urllib.parse.urlencode({"q": q, **filters, "sort": sort,
                                                             "page": rng.randint(1, 3)}))
    return {"fill": {"project_id": report or (refs[0] if refs else 1), "year": year},
            "paths": {"projects": projects, "browse": browse, "searches": searches}}


def measure(database_url: str, duration: int = 5, connections: int = 8, pages=None,
            index_dir: str | None = None) -> list[Figure]:
    from bench.generate import BENCH_PASSWORD

    pages = pages or PAGES
    found = placeholders(database_url)
    wrk = ensure_wrk()
    figures: list[Figure] = []
    for app in ("public", "portal"):
        wanted = [p for p in pages if p["app"] == app]
        if not wanted:
            continue
        server = Server(app, database_url, index_dir=index_dir)
        try:
            def load(paths, cookie="", port=server.port):
                if wrk:
                    return run_wrk(wrk, port, paths, cookie, duration, connections)
                return run_python_client(port, paths, cookie, duration, connections)

            static = load([STATIC[app]])
            label = f"static {STATIC[app].rsplit('/', 1)[-1]}"
            figures.append(Figure("http", f"{app} static file req/s", static["rps"], "req/s",
                                  note=f"{static['tool']}, {connections} conns, {duration}s", higher_is_better=True))
            figures.append(Figure("http", f"{app} static file median", static["p50_ms"], "ms"))
            cookies: dict[str, str] = {}
            for page in wanted:
                paths = found["paths"][page["paths"]] if "paths" in page else [page["path"].format(**found["fill"])]
                cookie = ""
                if page.get("login"):
                    cookie = cookies.get(page["login"]) or server.login(page["login"], BENCH_PASSWORD)
                    cookies[page["login"]] = cookie
                status, _body, _headers = server.get(paths[0], cookie)
                if status != 200:
                    figures.append(Figure("http", f"{page['name']}", None, "", note=f"answers {status}, not measured"))
                    continue
                result = load(paths, cookie)
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
    parser.add_argument("--index-dir", help="the search index the public site searches (search_bench builds one)")
    args = parser.parse_args(argv)
    figures = guarded("http", lambda: measure(args.database_url, min(args.duration, 30), min(args.connections, 32),
                                              index_dir=args.index_dir))
    print_figures(figures)


if __name__ == "__main__":
    main()
