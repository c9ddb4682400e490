"""htmx helpers: a full page for a normal request, only the changed partial for htmx."""
from flask import render_template, request


def is_htmx() -> bool:
    return bool(getattr(request, "htmx", False))


def render(full_template: str, partial_template: str | None = None, **context):
    """Render the partial for htmx requests (when given), else the full page."""
    if partial_template and is_htmx():
        return render_template(partial_template, **context)
    return render_template(full_template, **context)


def add_vary(response):
    """Responses differ by HX-Request; caches must know."""
    response.vary.add("HX-Request")
    return response
