"""Units never see other units' problems: pages, files, exports, statistics, API."""
import sqlalchemy as sa

from portal.core.api import create_token
from portal.core.attachments import Attachment
from portal.ledger.models import ProblemState
from tests.ledger.conftest import make_problem


def test_units_see_only_their_subtree(db, world, client, login, frozen_today):
    mine = make_problem(world, state=ProblemState.SUBMITTED)  # department (world.unit)
    sub = make_problem(world, unit=world.subunit)
    other = make_problem(world, unit=world.other_department, state=ProblemState.SUBMITTED,
                         description="卫生专项资金闲置")
    other_file = db.session.execute(sa.select(Attachment).order_by(Attachment.id.desc())).scalars().first()
    login(world.unit)
    page = client.get("/ledger/").get_data(as_text=True)
    assert mine.number in page and sub.number in page and other.number not in page
    assert client.get(f"/ledger/{other.id}").status_code == 403
    assert client.get(f"/ledger/{sub.id}").status_code == 200
    assert client.get(f"/files/{other_file.id}").status_code == 403
    for url in (f"/ledger/{other.id}/progress", f"/ledger/{other.id}/submit", f"/ledger/{other.id}/extension",
                f"/ledger/{other.id}/verify", f"/ledger/{mine.id}/verify"):
        assert client.post(url, data={"text": "x", "decision": "signoff"}).status_code == 403, url
    export = client.get("/ledger/export.xlsx")
    assert export.status_code == 200
    from portal.core.excel import read_rows

    numbers = {row[0] for _n, row in read_rows(export.data)}
    assert mine.number in numbers and other.number not in numbers
    assert "卫生健康" not in client.get("/ledger/stats?by=department").get_data(as_text=True)
    client.post("/logout")

    login(world.subunit_user)  # a subordinate unit does not see its department's problems
    page = client.get("/ledger/").get_data(as_text=True)
    assert sub.number in page and mine.number not in page
    assert client.get(f"/ledger/{mine.id}").status_code == 403
    client.post("/logout")

    login(world.agency)  # an agency reads only the problems of its own reports (co-review findings)
    page = client.get("/ledger/").get_data(as_text=True)
    assert mine.number not in page and sub.number not in page and other.number not in page
    assert client.get(f"/ledger/{mine.id}").status_code == 403


def test_api_honours_the_same_scope(db, world, client, frozen_today):
    mine = make_problem(world)
    other = make_problem(world, unit=world.other_department)
    _token, raw = create_token(world.unit, "test")
    db.session.commit()
    headers = {"Authorization": f"Bearer {raw}"}
    body = client.get("/api/v1/problems", headers=headers).get_json()
    assert [p["number"] for p in body["items"]] == [mine.number] and body["total"] == 1
    assert client.get(f"/api/v1/problems/{other.id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/problems/{mine.id}", headers=headers).get_json()["bucket"] == "later"
    assert client.get("/api/v1/problems").status_code == 401
    _t, finance_raw = create_token(world.finance, "f")
    db.session.commit()
    body = client.get(f"/api/v1/problems?unit={world.other_department.id}",
                      headers={"Authorization": f"Bearer {finance_raw}"}).get_json()
    assert [p["number"] for p in body["items"]] == [other.number]
    assert "/api/v1/problems" in client.get("/api/v1/openapi.json").get_json()["paths"]
