"""Request-level wiring shared by both faces: locale, security headers, error pages,
template globals."""
from __future__ import annotations

import gc
import threading
from pathlib import Path

from flask import g, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from portal.config import PROJECT_ROOT
from portal.core import formatting
from portal.core.errors import DomainError

LOCALES = ("zh", "en")


def N_(message: str) -> str:  # noqa: N802  marks a string for extraction; translated where shown
    return message

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")


def translation_directories() -> str:
    """Every module keeps its own catalogue under translations/<module>/ (merged at load)."""
    root = PROJECT_ROOT / "translations"
    return ";".join(str(p) for p in sorted(root.iterdir()) if p.is_dir()) if root.exists() else "translations"


def select_locale() -> str:
    from flask import has_request_context

    if not has_request_context():
        return "zh"
    lang = request.args.get("lang") or request.cookies.get("lang")
    if lang in LOCALES:
        return lang
    return "zh"


def security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    response.vary.add("HX-Request")
    return response


ERROR_TITLES = {
    400: N_("请求有误"),
    403: N_("无权访问"),
    404: N_("页面不存在"),
    405: N_("不支持的操作"),
    413: N_("文件过大"),
    429: N_("请求过于频繁"),
    500: N_("系统出错了"),
}
ERROR_TEXTS = {
    400: N_("提交的内容不完整或已过期（例如页面停留太久导致表单失效），请返回刷新后重试。"),
    403: N_("您没有查看或办理此记录的权限。如认为有误，请联系系统管理员。"),
    404: N_("您要找的页面或记录不存在，可能已被删除或地址有误。"),
    405: N_("该地址不支持此操作。"),
    413: N_("上传的文件超过了大小限制，请压缩或拆分后重试。"),
    429: N_("操作过于频繁，请稍后再试。"),
    500: N_("服务器处理时出现错误，已记录。请稍后重试；如持续出现，请联系系统管理员。"),
}


def error_page(template: str):
    def handle(error):
        code = error.code if isinstance(error, HTTPException) and error.code else 500
        if code not in ERROR_TITLES:
            code = 500 if code >= 500 else 400
        if code == 500:
            from portal.extensions import db

            db.session.rollback()
        return render_template(template, code=code, title=_(ERROR_TITLES[code]),
                               text=_(ERROR_TEXTS[code])), code
    return handle


def register_error_pages(app, template: str) -> None:
    handler = error_page(template)
    for code in ERROR_TITLES:
        app.register_error_handler(code, handler)
    app.register_error_handler(Exception, _unexpected(handler))


def _unexpected(handler):
    def handle(error):
        if isinstance(error, HTTPException):
            return handler(error)
        if isinstance(error, DomainError):  # a rule a view forgot to catch: still a clear message
            from flask import flash, redirect

            from portal.extensions import db

            db.session.rollback()
            flash(error.message, "error")
            return redirect(request.referrer or "/")
        import logging

        logging.getLogger("portal").exception("unhandled error")
        return handler(error)
    return handle


def common_context():
    return {"lang": select_locale()}


def init_common(app, error_template: str) -> None:
    formatting.register(app)
    app.after_request(security_headers)
    register_error_pages(app, error_template)
    app.context_processor(common_context)
    if app.config.get("GC_FREEZE_AFTER_WARM_UP") and not app.testing:
        freeze_after_first_request(app)


def freeze_after_first_request(app) -> None:
    """Once the first request has warmed the process (mappers configured, templates compiled,
    catalogues loaded), move every object then alive out of the collector's reach (`gc.freeze`).
    Those ~190,000 long-lived objects otherwise cost every full collection 110 ms on this
    machine, a pause that landed on one request in six; afterwards a full pass walks only what
    requests created. Tests build hundreds of apps and skip this (TESTING)."""
    lock, done = threading.Lock(), []

    @app.teardown_request
    def freeze_once(_error=None):
        if done:
            return
        with lock:
            if not done:
                done.append(True)
                gc.collect()
                gc.freeze()


def init_portal(app) -> None:
    from flask_login import current_user

    from portal.core.registry import NAV

    init_common(app, "portal/error.html")

    @app.before_request
    def login_required_everywhere():
        """Everything in the portal needs a login, except signing in and token-authenticated API."""
        endpoint = request.endpoint or ""
        if endpoint in ("auth.login", "static", "core.set_language") or endpoint.startswith("api."):
            return None
        if not current_user.is_authenticated:
            from portal.extensions import login_manager

            return login_manager.unauthorized()
        return None

    @app.after_request
    def private_cache(response):
        response.headers.setdefault("Cache-Control", "private, no-store")
        return response

    @app.context_processor
    def portal_context():
        nav, unread = [], 0
        if current_user.is_authenticated:
            from portal.core.notifications import unread_count

            nav = [item for item in NAV if item.visible_to(current_user)]
            if "_unread" not in g:
                g._unread = unread_count(current_user)
            unread = g._unread
        return {"nav_items": nav, "unread_count": unread}


def link_context():
    """Outside a request (CLI, cron, seeding) operations still build links with url_for:
    give them a request context at the portal's public address (PORTAL_BASE_URL)."""
    import contextlib

    from flask import current_app, has_request_context

    if has_request_context():
        return contextlib.nullcontext()
    return current_app.test_request_context("/", base_url=current_app.config["PORTAL_BASE_URL"])


def static_version() -> str:
    """A cache-busting token for /static (mtime of the stylesheet)."""
    css = Path(PROJECT_ROOT / "static" / "css" / "portal.css")
    return str(int(css.stat().st_mtime)) if css.exists() else "0"
