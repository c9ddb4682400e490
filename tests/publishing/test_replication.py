"""The public host by PostgreSQL logical replication, on two clusters of the test's own
(.ci/replication-clusters: the portal's with wal_level=logical on 5433, the public host's on
5434). A publication, a correction and a withdrawal on the portal each reach the public host's
pages and — through each public node's own index and position in the commit-ordered log — its
search. What a citizen would see if this broke: a project published on one host and withdrawn
on the other, for ever."""
from __future__ import annotations

import os
import re
import time
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests.conftest import FreshRequestClient, app_config
from tests.publishing.test_publishing import ALL

pytestmark = pytest.mark.commits  # logical replication between real databases

PUBLISHER = os.environ.get("REPLICATION_PUBLISHER_URL")
SUBSCRIBER = os.environ.get("REPLICATION_SUBSCRIBER_URL")


def _database(server_url: str, prefix: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def _drop(url: str) -> None:
    server = make_url(url).set(database="postgres")
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    engine.dispose()


def _libpq(url: str) -> str:
    u = make_url(url)
    return f"host={u.host} port={u.port} dbname={u.database} user={u.username}"


def _wait(predicate, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("replication did not deliver in time")
        time.sleep(0.3)


@pytest.fixture()
def hosts(tmp_root):
    if not (PUBLISHER and SUBSCRIBER):
        if os.environ.get("REQUIRE_REPLICATION") == "1":
            pytest.fail("REPLICATION_PUBLISHER_URL / REPLICATION_SUBSCRIBER_URL not set (see .ci/replication-clusters)")
        pytest.skip("logical replication test skipped: start two clusters with `.ci/replication-clusters start` "
                    "(needs pg_createcluster) and export the URLs it prints")
    import public_site
    from portal import create_app
    from portal.core.migrations_check import upgrade
    from portal.publishing import replica
    from portal.publishing.replication import create_publication

    portal_url, public_url = _database(PUBLISHER, "repl_portal"), _database(SUBSCRIBER, "repl_public")
    upgrade(portal_url)
    portal_app = create_app(app_config(portal_url, tmp_root, INSTANCE_DIR=str(tmp_root / "repl-portal"),
                                       UPLOAD_DIR=str(tmp_root / "repl-uploads"),
                                       SEARCH_INDEX_DIR=str(tmp_root / "repl-portal-index")))
    with portal_app.app_context():
        from portal.extensions import db

        create_publication(db.engine)
    nodes = []
    for n in (1, 2):  # two public nodes behind a load balancer, one database, their own indexes
        node = public_site.create_app(app_config(public_url, tmp_root, PUBLIC_REPLICA=True,
                                                 INSTANCE_DIR=str(tmp_root / f"repl-node{n}"),
                                                 SEARCH_INDEX_DIR=str(tmp_root / f"repl-node{n}-index")))
        node.test_client_class = FreshRequestClient
        nodes.append(node)
    with nodes[0].app_context():
        from portal.extensions import db

        replica.init_subscriber(db.engine, _libpq(portal_url))
    yield portal_app, nodes
    with nodes[0].app_context():
        from portal.extensions import db

        db.session.remove()
        replica.drop_subscriber(db.engine)
        db.engine.dispose()
    with portal_app.app_context():
        from portal.extensions import db

        db.session.remove()
        db.engine.dispose()
    _drop(public_url)
    _drop(portal_url)


def _on(node, fn):
    with node.app_context():
        return fn()


def _live_rows(node) -> int:
    from portal.extensions import db
    from portal.publishing.models import Snapshot

    return _on(node, lambda: db.session.scalar(sa.select(sa.func.count()).select_from(Snapshot)))


def _searched(node, q: str) -> str:
    """The search page's text (highlighting marks removed)."""
    page = node.test_client().get(f"/search?q={q}").get_data(as_text=True)
    return re.sub(r"</?mark[^>]*>", "", page)


def test_publish_correct_withdraw_reach_the_public_host_and_its_search(hosts):
    from portal.extensions import db
    from portal.publishing import operations, replica, search
    from tests import factories
    from tests.publishing import corpus as corpus_module

    portal_app, nodes = hosts
    with portal_app.app_context():
        world = factories.make_world()
        corpus = corpus_module.build(world)
        operations.publish(2026, None, ALL, actor=world.finance)
        db.session.commit()
        shack = corpus["projects"]["shack"]
        shack_id, shack_name, finance_id = shack.id, shack.name, world.finance.id
        published = db.session.scalar(sa.select(sa.func.count()).select_from(db.metadata.tables["pub_snapshots"]))
    _wait(lambda: _live_rows(nodes[0]) == published)
    assert _on(nodes[0], replica.replication_ready)
    # nothing unpublished on the public host: only the public tables exist there
    tables = _on(nodes[0], lambda: set(sa.inspect(db.engine).get_table_names()))
    assert tables == {"pub_snapshots", "pub_files", "pub_year_figures", "pub_index_log"}

    for node in nodes:
        _on(node, replica.follow_once)
        assert _on(node, replica.pending) == 0
        assert shack_name in _searched(node, "棚户区")
    # a rebuild (heal's, or `flask search reindex`) covers the log so far: the node follows on
    # from its end, not from the start (a year of log entries read again after each rebuild)
    _on(nodes[0], search.reindex)
    assert _on(nodes[0], replica.pending) == 0 and _on(nodes[0], replica.log_top) > 0
    for node in nodes:
        assert node.test_client().get("/readyz").status_code == 200
        page = node.test_client().get(f"/projects/{shack_id}").get_data(as_text=True)
        assert shack_name in page

    with portal_app.app_context():  # a correction
        from portal.accounts.models import User
        from portal.performance.models import Project

        finance = db.session.get(User, finance_id)
        db.session.get(Project, shack_id).description = "新增说明：保障性安居工程复核完成"
        operations.publish(2026, None, ["goals"], actor=finance, note="补充说明。")
        db.session.commit()
    _wait(lambda: "保障性安居工程复核完成" in nodes[1].test_client().get(f"/projects/{shack_id}").get_data(as_text=True))
    _on(nodes[1], replica.follow_once)  # node 2 follows on its own schedule, from its own position
    assert shack_name in _searched(nodes[1], "复核完成")
    assert shack_name not in _searched(nodes[0], "复核完成")  # node 1 has not applied it yet ...
    _on(nodes[0], replica.follow_once)
    assert shack_name in _searched(nodes[0], "复核完成")  # ... and now has

    with portal_app.app_context():  # a withdrawal of every current snapshot of the project
        from portal.publishing.models import Snapshot

        finance = db.session.get(User, finance_id)
        for snapshot in db.session.scalars(sa.select(Snapshot).where(Snapshot.project_ref == shack_id,
                                                                     Snapshot.current.is_(True))).all():
            operations.withdraw(snapshot, actor=finance, note="信息有误，撤回更正。")
        db.session.commit()
    _wait(lambda: "信息有误" in nodes[0].test_client().get(f"/projects/{shack_id}").get_data(as_text=True))
    for node in nodes:
        _on(node, replica.follow_once)
        assert _on(node, replica.pending) == 0
        assert shack_name not in _searched(node, "复核完成")
        assert node.test_client().get("/readyz").status_code == 200
