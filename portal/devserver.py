"""`make run`: the public site at / and the portal at /portal/ in one development server, and the
job worker (outbox: email and index updates; audit checkpoints; reminders) beside it."""
import argparse
import atexit
import os
import signal
import subprocess
import sys

from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import run_simple


def create_combined_app(portal_config: dict | None = None, public_config: dict | None = None):
    import portal
    import public_site

    portal_app = portal.create_app({"SESSION_COOKIE_PATH": "/portal", **(portal_config or {})})
    public_app = public_site.create_app(public_config)
    public_app.wsgi_app = DispatcherMiddleware(public_app.wsgi_app, {"/portal": portal_app})
    return public_app, portal_app


def main():
    os.environ.setdefault("LOG_FORMAT", "text")  # readable logs in development, JSON in production
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    app, _portal_app = create_combined_app()
    worker = start_worker()
    print(f"公开网站: http://{args.host}:{args.port}/   内部门户: http://{args.host}:{args.port}/portal/")
    print(f"后台任务进程 (job worker): pid {worker.pid}")
    run_simple(args.host, args.port, app, use_reloader=False, threaded=True)


def start_worker() -> subprocess.Popen:
    """`flask --app portal worker` as a child process, stopped with the server."""
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "portal", "worker"])

    def stop():
        worker.terminate()
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:
            worker.kill()
    atexit.register(stop)
    # SIGTERM (e.g. `timeout`, a process manager) ends the server through SystemExit, so the
    # worker is stopped with it instead of being left behind.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    return worker


if __name__ == "__main__":
    main()
