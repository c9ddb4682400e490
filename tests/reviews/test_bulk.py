"""The evaluation list's bulk bar (issue 18): 建立报告 for each ticked evaluation through
`commission_report`, one audit entry per report; an id the officer cannot see is counted only."""
import sqlalchemy as sa

from portal.core.audit import AuditEntry, record_key
from portal.reviews.models import Report
from tests.factories import make_evaluation, make_project


def test_each_report_is_audited_and_an_unknown_id_only_counted(db, world, client, login):
    ready = [make_evaluation(make_project(world.department, name=f"待建报告项目{i}"), agency=world.agency_org)
             for i in range(2)]
    db.session.commit()
    login(world.finance)
    page = client.post("/reviews/evaluations/bulk", data={"action": "commission",
                                                          "ids": [e.id for e in ready] + [999_999]},
                       follow_redirects=True).get_data(as_text=True)
    assert "已办理 2 项。" in page and "1 项所选记录不存在或无权办理。" in page and "未办理" not in page
    reports = db.session.scalars(sa.select(Report).order_by(Report.evaluation_id)).all()
    assert [r.evaluation_id for r in reports] == [e.id for e in ready]
    for report in reports:
        record_type, record_id = record_key(report)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "review_report.create", AuditEntry.record_type == record_type,
            AuditEntry.record_id == record_id)) == 1
