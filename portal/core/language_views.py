"""The language switch: sets the portal's `lang` cookie and goes back where the user was."""
from __future__ import annotations

from flask import abort, current_app, make_response, redirect, request, url_for

from portal.core.blueprint import bp
from portal.core.locale import LOCALES
from portal.core.redirects import is_safe_path


@bp.get("/lang/<code>")
def set_language(code):
    if code not in LOCALES:
        abort(404)
    # `next` is a path inside the portal (request.full_path, without the portal's prefix):
    # the answer goes back under the prefix, and the choice holds for the portal only (its
    # cookie's Path), so the public site beside it keeps its own language.
    wanted = request.args.get("next")
    root = request.script_root
    if is_safe_path(wanted):
        target = wanted if root and (wanted == root or wanted.startswith(root + "/")) else root + wanted
    else:
        target = url_for("core.dashboard")
    response = make_response(redirect(target))
    response.set_cookie("lang", code, max_age=365 * 86400, samesite="Lax", httponly=True,
                        path=(root or "") + "/", secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    return response
