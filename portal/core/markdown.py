"""Markdown rendered through the nh3 sanitiser: what users write can never run script."""
import html as html_module

import markdown
import nh3
from markupsafe import Markup

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "u", "s", "del",
    "blockquote", "code", "pre", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "a",
    "sup", "sub", "span",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}


def render_markdown(text: str | None) -> Markup:
    html = markdown.markdown(text or "", extensions=["tables", "sane_lists", "nl2br"], output_format="html")
    clean = nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                      url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow")
    return Markup(clean)


def plain_text(text: str | None) -> str:
    """What a reader sees of the Markdown, without its markup (for search documents and snippets)."""
    html = markdown.markdown(text or "", extensions=["tables", "sane_lists"], output_format="html")
    return html_module.unescape(nh3.clean(html, tags=set())).strip()
