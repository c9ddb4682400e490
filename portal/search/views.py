"""The search page: /search?q=…[&kind=letter] — results grouped by kind, each hit one the user
may open (portal/search/service.py asks the permission point)."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from portal.search import service
from portal.search.kinds import KINDS

bp = Blueprint("search", __name__, url_prefix="/search")


@bp.get("/")
def results():
    text = request.args.get("q", "").strip()[:100]
    kind = request.args.get("kind", "")
    kind = kind if kind in KINDS else None
    found = service.search(current_user, text, kind) if text else None
    return render_template("portal/search/results.html", q=text, kind=kind, found=found, kinds=KINDS)
