"""The portal's menu, breadcrumbs and bell: the menu groups and items the signed-in user may open
(registered by the modules in `portal.core.registry`), the section the page belongs to, the
trail of pages above it and the unread notification count."""
from __future__ import annotations

from flask import g, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.core.notifications import unread_count
from portal.core.reach import unproxied
from portal.core.registry import menu_for, section_of


def navigation_context():
    menu, unread = [], 0
    if current_user.is_authenticated:
        if "_menu" not in g:
            g._menu = menu_for(unproxied(current_user))
        menu = g._menu
        if "_unread" not in g:
            g._unread = unread_count(unproxied(current_user))
        unread = g._unread
    return {"menu": menu, "section": section_of(request.endpoint, menu), "unread_count": unread}


def breadcrumb_trail(crumbs=None) -> list[tuple[str, str]]:
    """The pages above this one, 工作台 first: the ones a template names in `crumbs` (a goal:
    项目与绩效 › its project), else the menu entry the page belongs to when it is another page."""
    home = [] if request.endpoint == "core.dashboard" else [(_("工作台"), url_for("core.dashboard"))]
    if crumbs is not None:
        return home + list(crumbs)
    section = section_of(request.endpoint, g.get("_menu") or [])
    if section is not None and section[1].endpoint not in (request.endpoint, "core.dashboard"):
        return home + [(str(section[1].label), url_for(section[1].endpoint))]
    return home
