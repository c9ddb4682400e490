"""Factories for the co-review tests."""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest

from portal.core import clock
from portal.extensions import db
from portal.reviews import operations as ops
from tests.factories import make_evaluation, make_project


def docx_bytes(text: str = "评价报告正文。本报告依据绩效评价管理办法编制。") -> bytes:
    import docx

    document = docx.Document()
    for para in text.split("\n"):
        document.add_paragraph(para)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"


def full_scores(rnd, fraction=0.8, justification="理由充分"):
    return {c.id: (str(round(c.weight * fraction, 2)), justification) for c in rnd.rubric.criteria}


class Setup:
    """A finance evaluation of the world's department, its report by world.agency_org."""

    def __init__(self, world, *, agency=None):
        self.world = world
        self.project = make_project(world.department, year=2026, name="校园安全设施提升改造项目")
        self.evaluation = make_evaluation(self.project, agency=agency or world.agency_org)
        self.report = ops.commission_report(self.evaluation, actor=world.finance)
        db.session.flush()

    def upload(self, user=None, data=None, name="评价报告.docx"):
        return ops.store_version_bytes(self.report, name, data or docx_bytes(), actor=user or self.world.agency)

    def open_round(self, reviewers=None, lead=None, deadline=None):
        w = self.world
        return ops.open_round(self.report, actor=w.finance,
                              reviewer_ids=[u.id for u in (reviewers or [w.finance, w.audit])],
                              lead_id=(lead or w.finance).id, deadline=deadline or clock.today() + timedelta(days=7))

    def review_all(self, rnd, fraction=0.8):
        for a in rnd.assignments:
            if a.state.value == "conflicted":
                continue
            ops.declare(a, actor=a.reviewer, conflict=None)
            ops.save_review(a, actor=a.reviewer, scores=full_scores(rnd, fraction), submit=True)

    def decide(self, rnd, decision, opinion="## 存在问题\n\n1. 抽样方法未说明。\n2. 数据不一致。"):
        ops.propose(rnd, actor=rnd.lead, opinion=opinion, decision=decision)
        ops.endorse(rnd, actor=self.world.finance_signer)
        ops.endorse(rnd, actor=self.world.audit)


@pytest.fixture()
def setup(db, world):
    return Setup(world)


__all__ = ["Setup", "docx_bytes", "full_scores", "PDF", "date"]
