"""三权分立: the security administrator's controls (roles, sessions, login limits, 2FA resets) as
a record kind of their own, so that the system administrator (accounts and organisations) and
the audit administrator (the audit log) are refused them. Reach: portal/core/reach.py "security";
the roles and their exclusion: portal/accounts/models.py (ADMIN_DUTIES, check_admin_duties)."""
from __future__ import annotations

from portal.core import reach
from portal.core.permissions import policy


class SecurityControls:
    """Stands for the security controls in `can(user, "manage", SecurityControls)`."""


@policy(SecurityControls)
def security_controls_policy(user, action, _record) -> bool:
    return reach.reaches_all(user, "security", reach.WRITE if action != "view" else reach.READ)


def register_navigation() -> None:
    from flask_babel import lazy_gettext as _l

    from portal.core.registry import register_nav

    register_nav(_l("安全管理"), "security.users", order=905, needs=(SecurityControls, "manage"), group="admin")


register_navigation()
