"""`make run`: the public site at / and the portal at /portal/ in one development server."""
import argparse

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
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    app, _portal_app = create_combined_app()
    print(f"公开网站: http://{args.host}:{args.port}/   内部门户: http://{args.host}:{args.port}/portal/")
    run_simple(args.host, args.port, app, use_reloader=False, threaded=True)


if __name__ == "__main__":
    main()
