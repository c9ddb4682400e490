"""Public pages that need no published data: home and the glossary of terms."""
from flask import Blueprint, current_app, render_template

bp = Blueprint("public", __name__)


def init_app(app):
    app.register_blueprint(bp)


@bp.get("/")
def home():
    search_url = None
    if "public.search" in current_app.view_functions:
        from flask import url_for

        search_url = url_for("public.search")
    return render_template("public_site/home.html", search_url=search_url)
