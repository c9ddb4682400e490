"""File downloads: an attachment is readable by whoever may view one of the records it is linked to."""
from __future__ import annotations

from flask import abort, request, send_file
from flask_login import current_user

from portal.core.attachments import Attachment, linked_records
from portal.core.blueprint import bp
from portal.core.excel import safe_filename
from portal.core.permissions import can
from portal.extensions import db


@bp.get("/files/<int:attachment_id>")
def download(attachment_id):
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None:
        abort(404)
    if not any(can(current_user, "view", record) for record in linked_records(attachment)):
        abort(403)
    if not attachment.path.exists():
        abort(404)
    inline = request.args.get("inline") == "1" and attachment.kind in ("pdf", "png", "jpeg")
    response = send_file(attachment.path, mimetype=attachment.mimetype, as_attachment=not inline,
                         download_name=safe_filename(attachment.filename))
    response.headers["Cache-Control"] = "private, no-store"
    return response
