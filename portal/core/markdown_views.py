"""Live preview for Markdown fields (htmx posts the textarea; sanitised HTML comes back)."""
from __future__ import annotations

from portal.core.blueprint import bp
from portal.core.forms import MarkdownPreviewForm
from portal.core.markdown import render_markdown
from portal.core.writes import read_only


@bp.post("/markdown/preview")
@read_only
def markdown_preview():
    form = MarkdownPreviewForm()
    if not form.validate():  # longer than any field it previews: nothing to show
        return "", 422
    return str(render_markdown(form.source()))
