"""What the fuzz tests share: a seeded demo database (once per session), one signed-in client
per demo role, the route table read from app.url_map, hypothesis strategies for malformed
values, and the tally of requests sent (printed in the pytest terminal summary).

Budget: FUZZ_EXAMPLES (default 1.0) scales the number of examples per route; FUZZ_RANDOM=1
explores new examples instead of the reproducible (derandomized) default."""
from __future__ import annotations

import collections
import logging
import os
import re
import urllib.parse
from dataclasses import dataclass, field

import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

SCALE = float(os.environ.get("FUZZ_EXAMPLES", "1"))
REPORT = {"requests": 0, "statuses": collections.Counter(), "routes": 0}

# One account per demo role (portal/demo.py USERS), plus nobody signed in.
ROLE_USERS = ("admin", "finance", "signer", "audit", "auditsigner", "conference", "unit", "agency", "expert",
              "congress", None)
# Written outside the request being checked: the public search queue is drained by the index's
# background rebuild; the library access log records who opened a shared document (by design).
NOT_CHECKED_TABLES = {"pub_search_queue", "library_access_log"}
# A refused sign-in is itself recorded (等保: failed logins are audited and throttled), by design.
RECORDS_ITS_REFUSAL = {"/login": {"audit_entries", "login_throttles"}}
SKIP_ENDPOINTS = {"static", "auth.logout", "health.metrics", "health.readyz", "health.healthz"}

# Path argument -> table its ids come from (by endpoint prefix where the name is ambiguous).
PATH_TABLES = {
    "project_id": "projects", "letter_id": "inquiry_letters", "problem_id": "problems",
    "evaluation_id": "evaluations", "round_id": "review_rounds", "goal_id": "performance_goals",
    "action_id": "conference_actions", "report_id": "review_reports", "meeting_id": "conference_meetings",
    "indicator_id": "indicators", "user_id": "users", "org_id": "organisations", "job_id": "background_jobs",
    "assignment_id": "review_assignments", "document_id": "library_documents",
    "notification_id": "notifications", "attachment_id": "attachments", "token_id": "api_tokens",
    "draw_id": "agency_draws", "rubric_id": "review_rubrics", "holiday_id": "inquiry_holidays",
    "filter_id": "ledger_saved_filters", "extension_id": "problem_extensions",
    "milestone_id": "problem_milestones", "link_id": "conference_action_links", "snapshot_id": "pub_snapshots",
    "performance.item_id": "indicator_library", "conference.item_id": "conference_plan_items",
}
PATH_WORDS = {"action": ["submit", "sign", "send", "withdraw", "close", "x" * 30, "%00"],
              "decision": ["approve", "reject", "grant", "refuse", "maybe"], "code": ["zh", "en", "fr"]}

# Query parameters of the list and search pages (grep of request.args in both faces).
QUERY_NAMES = ["page", "per_page", "year", "month", "q", "state", "sort", "dir", "kind", "format", "unit",
               "department", "project", "warning", "overdue", "next", "direction", "version", "template",
               "source", "sector", "record_type", "mode", "inline", "grade", "category", "by", "budget_type",
               "bucket", "band", "actor", "project_kind", "amount_band", "rectification", "status", "type",
               "lang", "ids", "agency_id", "rubric_id", "library_id", "evaluation", "round", "person"]

NUMBERS = ["0", "-1", "1", "2", "7", "13", "99", "2026", "1999", "2101", "-2026", str(2**31), str(2**63),
           str(10**26), "9" * 40, "-" + "9" * 25, "1e999", "1e5", "NaN", "inf", "-inf", "1.5", "0.001",
           "1,000,000", "0x10", " 12 ", "١٢", "１２", "12abc", "+", "-", "--1", "1_000"]
DATES = ["2026-02-30", "2026-13-01", "0000-00-00", "0001-01-01", "9999-12-31", "2026/03/31", "31.03.2026",
         "2026-03-31T25:00", "today", "-1", "20260331"]
WORDS = ["draft", "DRAFT", "submitted", "approved", "unknown", "__class__", "<script>alert(1)</script>",
         "' OR 1=1 --", "%", "_", "\\", "..", "../../etc/passwd", "null", "None", "true", "[]", "{}",
         "on", "off", "yes", "self", "finance", "agency", "xlsx", "csv", "json", "docx", "pdf",
         "-number", "amount", "http://evil.example/", "//evil.example", "\r\nSet-Cookie: x=1", "javascript:x"]
CONTROL = st.text(alphabet=st.characters(codec="utf-8", max_codepoint=0x9f,
                                          categories=("Cc",)), min_size=1, max_size=6)
TEXT = st.text(max_size=40)
LONG = st.sampled_from([201, 2001, 5001, 20_001, 120_000]).map(lambda n: "长" * n)
NON_UTF8 = st.binary(min_size=1, max_size=12).filter(lambda b: not _is_utf8(b))


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def value_strategy(ids: list[int]):
    real = st.sampled_from([str(i) for i in ids] or ["1"])
    return st.one_of(
        st.sampled_from(NUMBERS), st.sampled_from(DATES), st.sampled_from(WORDS), TEXT,
        st.builds(lambda a, c, b: a + c + b, TEXT, CONTROL, TEXT), LONG, NON_UTF8, real, st.just(""),
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
    )


def pairs_strategy(names: list[str], ids: list[int]):
    """A form or query: some of the names (duplicates allowed, some missing), each with a value."""
    name = st.one_of(st.sampled_from(names), st.sampled_from(["", "x" * 300, "a\x00b", "ids", "item_id"]))
    return st.lists(st.tuples(name, value_strategy(ids)), max_size=max(4, len(names) + 3))


def encode(pairs) -> bytes:
    parts = []
    for name, value in pairs:
        key = urllib.parse.quote(name, safe="")
        raw = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
        parts.append(f"{key}={urllib.parse.quote_from_bytes(raw, safe='')}")
    return "&".join(parts).encode("ascii")


def fuzz_settings(examples: int):
    return settings(max_examples=max(1, int(examples * SCALE)), deadline=None, database=None,
                    derandomize=os.environ.get("FUZZ_RANDOM") != "1", phases=[Phase.generate],
                    suppress_health_check=list(HealthCheck))


# ---- the seeded world ------------------------------------------------------------------------

@dataclass
class Route:
    rule: str
    endpoint: str
    methods: set
    arguments: list
    form_names: set = field(default_factory=set)


class Unhandled(logging.Handler):
    """Collects the tracebacks the error handler logs (core/error_pages.py: "unhandled error")."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        if record.exc_info:
            self.records.append(record)


def id_pools(db) -> dict[str, list[int]]:
    pools = {}
    with db.engine.connect() as conn:
        for key, table in PATH_TABLES.items():
            pools[key] = [row[0] for row in conn.execute(sa.text(f'SELECT id FROM "{table}" ORDER BY id LIMIT 6'))]
        # never fuzz the accounts the fuzz signs in with (deactivating one would end its session)
        pools["user_id"] = [row[0] for row in conn.execute(sa.text(
            "SELECT id FROM users WHERE username NOT IN :names ORDER BY id LIMIT 6").bindparams(
                sa.bindparam("names", expanding=True)), {"names": [u for u in ROLE_USERS if u]})]
    return pools


def row_counts(db) -> dict[str, int]:
    tables = sorted(db.metadata.tables)
    sql = "SELECT " + ", ".join(f'(SELECT count(*) FROM "{t}")' for t in tables)
    with db.engine.connect() as conn:
        return dict(zip(tables, conn.execute(sa.text(sql)).one(), strict=True))


class RowCounts:
    """`row_counts` as of now, recounted only when the database changed: on SQLite a watching
    connection's `PRAGMA data_version` moves whenever another connection commits, so a request
    that committed nothing (most of the fuzz) costs one pragma instead of two counts of every
    table. Elsewhere every call counts."""

    def __init__(self, app, db):
        import sqlite3

        self.app, self.db, self.counts, self.version = app, db, None, None
        url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
        self.watch = sqlite3.connect(url.database) if url.get_backend_name() == "sqlite" else None

    def __call__(self) -> dict[str, int]:
        if self.watch is not None:
            version = self.watch.execute("PRAGMA data_version").fetchone()[0]
            if self.counts is not None and version == self.version:
                return self.counts
            self.version = version
        with self.app.app_context():
            self.counts = row_counts(self.db)
        return self.counts

    def close(self) -> None:
        if self.watch is not None:
            self.watch.close()


def routes_of(app, *, method: str) -> list[Route]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP_ENDPOINTS or "/api/" in rule.rule or method not in (rule.methods or ()):
            continue
        found.append(Route(rule.rule, rule.endpoint, set(rule.methods), sorted(rule.arguments)))
    return sorted(found, key=lambda r: (r.rule, r.endpoint))


def path_for(route: Route, pools: dict, choose) -> str:
    path = route.rule
    for arg in route.arguments:
        if arg in PATH_WORDS:
            value = choose(PATH_WORDS[arg])
        else:
            key = f"{route.endpoint.split('.')[0]}.{arg}"
            ids = pools.get(key) or pools.get(arg) or [1]
            value = str(choose(ids))
        path = re.sub(r"<(?:[a-z]+:)?" + arg + ">", urllib.parse.quote(value, safe=""), path)
    return path


FORM_RE = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
ACTION_RE = re.compile(r'action="([^"]*)"')
NAME_RE = re.compile(r'name="([^"]+)"')


def scrape_forms(html: str, page_path: str) -> dict[str, set[str]]:
    """action path -> input names of every form on a page."""
    forms: dict[str, set[str]] = collections.defaultdict(set)
    for attributes, body in FORM_RE.findall(html):
        action = ACTION_RE.search(attributes)
        target = urllib.parse.urlsplit(action.group(1).replace("&amp;", "&")).path if action else page_path
        forms[target or page_path].update(n for n in NAME_RE.findall(body) if n != "csrf_token")
    return forms


def form_field_names() -> set[str]:
    """Every field name of every WTForms form of the project."""
    from flask_wtf import FlaskForm
    from wtforms.fields.core import UnboundField

    names, todo = set(), list(FlaskForm.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        names.update(k for k in dir(cls) if isinstance(getattr(cls, k, None), UnboundField))
    return names


def describe(records) -> list[str]:
    out = []
    for record in records:
        exc_type, exc, tb = record.exc_info
        frames = []
        while tb is not None:
            frames.append(f"{tb.tb_frame.f_code.co_filename.rsplit('/work/', 1)[-1]}:{tb.tb_lineno}")
            tb = tb.tb_next
        portal_frames = [f for f in frames if "portal/" in f or "public_site/" in f] or frames
        out.append(f"{exc_type.__name__}: {str(exc)[:160]} @ {portal_frames[-1] if portal_frames else '?'}")
    return out
