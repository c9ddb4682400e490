"""Error pages of both faces: a title and a plain explanation per status, the message a view
wrote for a 400, a rollback before a 500, and a DomainError no view caught turned into a flash."""
from __future__ import annotations

import logging

from flask import flash, redirect, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from portal.core.errors import DomainError
from portal.core.locale import N_
from portal.extensions import db

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
            db.session.rollback()
        text = (code == 400 and clear_description(error)) or _(ERROR_TEXTS[code])
        return render_template(template, code=code, title=_(ERROR_TITLES[code]), text=text), code
    return handle


def clear_description(error) -> str | None:
    """The message a view wrote for the user (`abort(400, description=...)`, as the edge parsers'
    require_* do), or None for werkzeug's generic English text and a failed CSRF check (whose
    reason is for developers; the page explains an expired form instead)."""
    from flask_wtf.csrf import CSRFError

    description = getattr(error, "description", None)
    if not isinstance(error, HTTPException) or isinstance(error, CSRFError):
        return None
    if not isinstance(description, str) or not description.strip() or description == type(error).description:
        return None
    return description


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
            db.session.rollback()
            flash(error.message, "error")
            return redirect(request.referrer or "/")
        logging.getLogger("portal").exception("unhandled error")
        return handler(error)
    return handle
