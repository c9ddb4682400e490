"""API tokens: the user's own list, a new token (its secret shown once), revoking one."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.core import parsing
from portal.core.blueprint import bp
from portal.core.errors import DomainError
from portal.core.forms import TokenForm
from portal.core.tokens import ApiToken, create_token, revoke_token
from portal.core.writes import DOMAIN_ERROR_STATUS, DuplicateSubmission, perform, show_error, submit
from portal.extensions import db


@bp.route("/tokens", methods=["GET", "POST"])
def tokens():
    new_secret, code = None, 200
    form = TokenForm()
    if request.method == "POST":
        try:
            parsing.check(form)  # an over-long name: refused like the operation's own rule
            _token, new_secret = perform(create_token, current_user, form.name.data or "",
                                         actor=current_user, redirect_to=url_for("core.tokens"))
        except DuplicateSubmission as duplicate:  # the secret was shown to the first submit only
            flash(duplicate.message, "info")
            return redirect(duplicate.redirect_to)
        except DomainError as error:
            show_error(error)
            code = DOMAIN_ERROR_STATUS
    rows = db.session.execute(sa.select(ApiToken).where(ApiToken.user_id == current_user.id)
                              .order_by(ApiToken.id.desc())).scalars().all()
    # The secret is shown in this answer only (never in a redirect, a flash or the log).
    return render_template("portal/core/tokens.html", tokens=rows, new_secret=new_secret), code


@bp.post("/tokens/<int:token_id>/revoke")
def revoke(token_id):
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    return submit(revoke_token, token, actor=current_user, redirect_to=url_for("core.tokens"),
                  success=_("令牌已吊销。")) or redirect(url_for("core.tokens"))
