"""Where workflow modules plug in without touching each other's code: navigation entries,
dashboard panels, reminder checks, demo-data seeders and record types (for attachment and
audit links). Each module's `init_app(app)` registers its own."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(order=True)
class NavItem:
    order: int
    label: str = field(compare=False)
    endpoint: str = field(compare=False)
    roles: frozenset | None = field(compare=False, default=None)  # None: every signed-in user
    org_kinds: frozenset | None = field(compare=False, default=None)

    def visible_to(self, user) -> bool:
        if self.roles is not None and not user.has_role(*self.roles):
            return False
        if self.org_kinds is not None and str(user.org_kind) not in self.org_kinds:
            return False
        return True


@dataclass(order=True)
class DashboardPanel:
    order: int
    render: Callable = field(compare=False)  # render(user) -> HTML string or None


@dataclass(order=True)
class Seeder:
    order: int
    name: str = field(compare=False)
    run: Callable = field(compare=False)  # run(ctx: dict) -> None; ctx carries shared demo objects


NAV: list[NavItem] = []
DASHBOARD: list[DashboardPanel] = []
REMINDER_CHECKS: dict[str, Callable] = {}
SEEDERS: list[Seeder] = []
RECORD_TYPES: dict[str, type] = {}


def _add_unique(items: list, item, key) -> None:
    if all(key(existing) != key(item) for existing in items):
        items.append(item)
        items.sort()


def register_nav(label: str, endpoint: str, *, order: int = 500, roles=None, org_kinds=None) -> None:
    _add_unique(NAV, NavItem(order, label, endpoint, frozenset(roles) if roles else None,
                             frozenset(org_kinds) if org_kinds else None), key=lambda n: n.endpoint)


def register_dashboard(render: Callable, *, order: int = 500) -> None:
    _add_unique(DASHBOARD, DashboardPanel(order, render), key=lambda p: f"{p.render.__module__}.{p.render.__qualname__}")


def register_reminder_check(name: str, check: Callable) -> None:
    """check(now) yields portal.core.notifications.Reminder objects."""
    REMINDER_CHECKS[name] = check


def register_seeder(name: str, run: Callable, *, order: int = 500) -> None:
    _add_unique(SEEDERS, Seeder(order, name, run), key=lambda s: s.name)


def register_record_type(model: type) -> type:
    RECORD_TYPES[model.__tablename__] = model
    return model


# The public site's project snapshot gathers extra whitelisted sections from modules, e.g. the
# problem ledger provides "problems": provider(project) -> list of dicts of *public* fields only.
PUBLIC_PROVIDERS: dict[str, Callable] = {}

# The joint overview (联席会议 / 人大) shows one section per module:
# section(user, year) -> HTML string (figures with links to the lists behind them) or None.
OVERVIEW_SECTIONS: list[DashboardPanel] = []


def register_public_provider(name: str, provider: Callable) -> None:
    PUBLIC_PROVIDERS[name] = provider


def register_overview_section(render: Callable, *, order: int = 500) -> None:
    _add_unique(OVERVIEW_SECTIONS, DashboardPanel(order, render), key=lambda p: f"{p.render.__module__}.{p.render.__qualname__}")
