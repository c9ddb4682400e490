"""Where workflow modules plug in without touching each other's code: navigation entries,
dashboard panels, reminder checks, demo-data seeders and record types (for attachment and
audit links). Each module's `init_app(app)` registers its own (`register_module` for the parts
every workflow module has)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(order=True)
class NavItem:
    """A menu entry names the permission its page needs, `(Model, action)`: it is shown exactly
    when `can(user, action, Model)` holds — the same policy the page itself asks — never by a
    role set of its own. `needs=None`: every signed-in user (the dashboard)."""
    order: int
    label: str = field(compare=False)
    endpoint: str = field(compare=False)
    needs: tuple[type, str] | None = field(compare=False, default=None)
    group: str = field(compare=False, default="")  # a NAV_GROUPS key; "": a top-level link (the dashboard)

    def visible_to(self, user) -> bool:
        from portal.core.permissions import can

        if self.needs is None:
            return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)
        model, action = self.needs
        return can(user, action, model)


@dataclass(order=True)
class DashboardPanel:
    order: int
    render: Callable = field(compare=False)  # render(user) -> HTML string or None


@dataclass(order=True)
class Seeder:
    order: int
    name: str = field(compare=False)
    run: Callable = field(compare=False)  # run(ctx: dict) -> None; ctx carries shared demo objects


@dataclass(order=True)
class NavGroup:
    """A labelled group of the main menu (绩效管理, 协同监督, …): a menu of its entries the user may
    see, shown only when there is at least one."""
    order: int
    key: str = field(compare=False)
    label: str = field(compare=False)


NAV: list[NavItem] = []
NAV_GROUPS: dict[str, NavGroup] = {}
DASHBOARD: list[DashboardPanel] = []
REMINDER_CHECKS: dict[str, Callable] = {}
SEEDERS: list[Seeder] = []
RECORD_TYPES: dict[str, type] = {}


def _add_unique(items: list, item, key) -> None:
    if all(key(existing) != key(item) for existing in items):
        items.append(item)
        items.sort()


def register_nav(label: str, endpoint: str, *, order: int = 500, needs: tuple[type, str] | None = None,
                 group: str = "") -> None:
    """needs=(Model, action): shown when can(user, action, Model) — e.g. needs=(Project, "view");
    group: the key of a registered NavGroup the entry is listed under."""
    _add_unique(NAV, NavItem(order, label, endpoint, needs, group), key=lambda n: n.endpoint)


def register_nav_group(key: str, label: str, *, order: int = 500) -> None:
    NAV_GROUPS[key] = NavGroup(order, key, label)


@dataclass
class Menu:
    """What the header shows one user: top-level links and groups, each with its visible entries."""
    label: str
    entries: list[NavItem]
    key: str = ""  # "": a single link (entries[0])


def menu_for(user) -> list[Menu]:
    """The main menu of `user`: the entries they may see (per-role filtering through `can()`),
    grouped; a group stands at its own order, a top-level link at its entry's; an empty group is
    left out."""
    placed: list[tuple[int, Menu]] = []
    by_group: dict[str, Menu] = {}
    for item in NAV:
        if not item.visible_to(user):
            continue
        if not item.group:
            placed.append((item.order, Menu(item.label, [item])))
            continue
        if item.group not in by_group:
            group = NAV_GROUPS[item.group]  # an unregistered group is a programming error
            by_group[item.group] = Menu(group.label, [], group.key)
            placed.append((group.order, by_group[item.group]))
        by_group[item.group].entries.append(item)
    return [menu for _order, menu in sorted(placed, key=lambda pair: pair[0])]


def section_of(endpoint: str | None, menu: list[Menu]) -> tuple[Menu, NavItem] | None:
    """The menu entry a page belongs to, for its breadcrumb: the entry of the endpoint itself, else
    the first entry of the endpoint's blueprint (a problem's page → 问题台账)."""
    if not endpoint:
        return None
    for m in menu:
        for item in m.entries:
            if item.endpoint == endpoint:
                return m, item
    blueprint = endpoint.rpartition(".")[0]
    for m in menu:
        for item in m.entries:
            if item.endpoint.rpartition(".")[0] == blueprint:
                return m, item
    return None


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


# Year-level figures a module lets finance publish (公开) as immutable snapshots of their own
# (portal/publishing: pub_year_figures), e.g. the ex-ante assessments' "ex_ante":
# build(year) -> dict of *public* values (JSON-able), or None when the year has nothing.
@dataclass(frozen=True)
class YearFigures:
    name: str
    label: object
    build: Callable


YEAR_FIGURES: dict[str, YearFigures] = {}


def register_year_figures(name: str, label, build: Callable) -> None:
    YEAR_FIGURES[name] = YearFigures(name, label, build)


def register_overview_section(render: Callable, *, order: int = 500) -> None:
    _add_unique(OVERVIEW_SECTIONS, DashboardPanel(order, render), key=lambda p: f"{p.render.__module__}.{p.render.__qualname__}")


def register_module(app, blueprint, *, dashboard: tuple[Callable, int] | None = None,
                    overview: tuple[Callable, int] | None = None, reminders: dict[str, Callable] | None = None,
                    seeder: tuple[Callable, int] | None = None) -> None:
    """A workflow module's wiring beside its menu entries (`register_nav`): its blueprint, its
    dashboard panel and joint-overview section as `(render, order)`, its reminder checks by name,
    and its demo seeder as `(seed, order)` under the blueprint's name."""
    app.register_blueprint(blueprint)
    if dashboard:
        register_dashboard(dashboard[0], order=dashboard[1])
    if overview:
        register_overview_section(overview[0], order=overview[1])
    for name, check in (reminders or {}).items():
        register_reminder_check(name, check)
    if seeder:
        register_seeder(blueprint.name, seeder[0], order=seeder[1])


# Checks one module puts in front of another's step without the other importing it (先评估后入库:
# the ex-ante assessment in front of a goal's submission and approval): check(record) -> the
# refusal message, or None when the step may go on.
GATES: dict[str, list[Callable]] = {}


def register_gate(step: str, check: Callable) -> None:
    checks = GATES.setdefault(step, [])
    if check not in checks:
        checks.append(check)


def require_gates(step: str, record) -> None:
    """Raise DomainError with the first refusal of the step's gates (nothing changed yet)."""
    from portal.core.errors import DomainError

    for check in GATES.get(step, []):
        message = check(record)
        if message:
            raise DomainError(message)
