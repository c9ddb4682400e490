"""Orientation (issue 18): every portal page a finance officer reaches shows a breadcrumb trail,
and the main menu groups the entries into a few labelled menus, filtered per role as before."""
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

from portal.core.registry import NAV, NAV_GROUPS, menu_for
from portal.demo import DEMO_PASSWORD
from tests import factories

SKIP = re.compile(r"(export|download|\.xlsx|\.csv|\.zip|\.docx|\.pdf|/files/|/print|/logout|/lang/|/api/|\.atom)")


class Page(HTMLParser):
    """The links of a page and its breadcrumb trail (`nav aria-label=面包屑导航`)."""

    def __init__(self):
        super().__init__()
        self.links, self.crumbs, self.current, self._in_crumbs, self._in_current = [], [], "", False, False
        self.has_breadcrumbs = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
            if self._in_crumbs:
                self.crumbs.append(attrs["href"])
        if tag == "nav" and attrs.get("aria-label") == "面包屑导航":
            self.has_breadcrumbs, self._in_crumbs = True, True
        if self._in_crumbs and tag == "li" and attrs.get("aria-current") == "page":
            self._in_current = True

    def handle_endtag(self, tag):
        if tag == "nav":
            self._in_crumbs = False
        if tag == "li":
            self._in_current = False

    def handle_data(self, data):
        if self._in_current:
            self.current += data


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


def shape(path: str) -> str:
    """One page per URL shape (/ledger/12 and /ledger/13 are the same page)."""
    return re.sub(r"\d+", "N", path)


def test_every_page_a_finance_officer_reaches_has_a_breadcrumb(demo_app, demo_db):
    client = demo_app.test_client()
    assert factories.sign_in(client, "finance", DEMO_PASSWORD).status_code == 302
    queue, seen, missing, visited = ["/"], {shape("/")}, [], 0
    while queue and visited < 160:
        path = queue.pop(0)
        response = client.get(path)
        visited += 1
        if response.status_code != 200 or not response.mimetype == "text/html":
            continue
        html = response.get_data(as_text=True)
        if 'class="topbar"' not in html:  # a partial (htmx) or a bare page
            continue
        page = parse(html)
        if not page.has_breadcrumbs or not page.current.strip():
            missing.append(path)
        for href in page.links:
            target = urlsplit(href)
            if target.netloc or not target.path.startswith("/") or SKIP.search(target.path):
                continue
            if shape(target.path) not in seen:
                seen.add(shape(target.path))
                queue.append(target.path)
    assert visited > 60, visited  # the crawl reached the modules' lists and records
    assert not missing, missing


def test_a_problem_page_names_the_ledger_and_its_number(app, db, world, client, login):
    from tests.ledger.conftest import make_problem

    problem = make_problem(world)
    login(world.finance)
    page = parse(client.get(f"/ledger/{problem.id}").get_data(as_text=True))
    assert page.crumbs == ["/", "/ledger/"]
    assert page.current.strip() == problem.number
    page = parse(client.get("/ledger/").get_data(as_text=True))
    assert page.crumbs == ["/"] and page.current.strip() == "问题台账"


def test_deeper_pages_name_every_page_above_them(app, db, world, client, login):
    from tests.factories import make_goal, make_project

    project = make_project(world.department, name="校舍维修改造项目")
    make_goal(project)
    login(world.finance)
    page = parse(client.get(f"/projects/{project.id}/goal").get_data(as_text=True))
    assert page.crumbs == ["/", "/projects", f"/projects/{project.id}"]
    assert page.current.strip() == "绩效目标"


def test_the_menu_groups_what_each_role_may_see(app, db, world):
    for user in (world.finance, world.audit, world.unit, world.admin):
        menu = menu_for(user)
        shown = [item for m in menu for item in m.entries]
        assert shown == sorted(shown, key=lambda i: (NAV_GROUPS[i.group].order if i.group else i.order, i.order))
        assert {i.endpoint for i in shown} == {i.endpoint for i in NAV if i.visible_to(user)}, user.username
        assert all(m.entries for m in menu)  # an empty group is left out
    finance = menu_for(world.finance)
    assert [str(m.label) for m in finance][:3] == ["工作台", "绩效管理", "协同监督"]
    assert len(finance) <= 7 < sum(len(m.entries) for m in finance)  # a few menus over many entries


def test_the_grouped_menu_renders_as_disclosures_with_the_current_page(app, db, world, client, login):
    login(world.finance)
    html = client.get("/ledger/").get_data(as_text=True)
    nav = html[html.index('<nav class="mainnav"'):html.index("</nav>", html.index('<nav class="mainnav"'))]
    assert '<details data-navgroup="collaboration">' in nav
    assert re.search(r'<summary class="current">协同监督</summary>', nav)
    assert re.search(r'<a href="/ledger/" aria-current="page">问题台账</a>', nav)
    assert "绩效管理" in nav and "/security/" not in nav  # the security administrator's entry stays hidden
