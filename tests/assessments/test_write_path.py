"""Two people at once, a double click, a stale form: the assessment's writes take the one write
path (row lock + state re-checked, lock_version, form keys), on PostgreSQL with real concurrent
transactions."""
import sqlalchemy as sa

from portal.assessments.models import Assessment, AssessmentRound
from portal.core.audit import AuditEntry
from tests.assessments.conftest import applied, scores_for
from tests.concurrency import in_parallel, signed_in
from tests.factories import make_user


def test_two_officers_arranging_at_once_open_one_round(app, db, world):
    from portal.accounts.models import Role

    assessment = applied(world)
    from portal.assessments import operations as ops
    ops.submit(assessment, actor=world.unit)
    second = make_user(world.finance_bureau, Role.FINANCE_OFFICER, username="t_finance_b")
    db.session.commit()
    clients = [signed_in(app, user) for user in (world.finance, second)]
    url = f"/assessments/{assessment.id}/arrange"
    responses = in_parallel([lambda c=c: c.post(url, data={"method": "finance", "expected_state": "submitted"})
                             for c in clients])
    assert sorted(r.status_code for r in responses) == [302, 422]
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(AssessmentRound.id))) == 1
    assert db.session.get(Assessment, assessment.id).state.value == "assessing"


def test_a_double_click_concludes_once_and_a_stale_sheet_is_refused(app, db, world, client, login):
    from portal.assessments import operations as ops

    assessment = applied(world)
    ops.submit(assessment, actor=world.unit)
    rnd = ops.arrange(assessment, actor=world.finance, method="finance")
    sheet = rnd.sheets[0]
    version = sheet.lock_version
    ops.save_sheet(sheet, actor=world.finance, version=version, scores=scores_for(85), comment="意见", submit=True)
    db.session.commit()
    login(world.finance)
    stale = client.post(f"/assessments/sheets/{sheet.id}", data={"lock_version": str(version), "comment": "x",
                                                                "save": "1"})
    assert stale.status_code == 422
    form = {"recommended_amount": "7000000", "opinion": "予以支持。", "expected_state": "assessing",
            "form_key": "conclude-once"}
    first = client.post(f"/assessments/{assessment.id}/conclude", data=form)
    again = client.post(f"/assessments/{assessment.id}/conclude", data=form)
    assert first.status_code == 302 and again.status_code == 302
    entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "assessment.conclude_support")).all()
    assert len(entries) == 1 and entries[0].before_dict["state"] == "assessing"
    assert entries[0].after_dict == {"state": "supported", "score": "85", "conclusion": "support",
                                     "recommended_amount": "7000000"}
