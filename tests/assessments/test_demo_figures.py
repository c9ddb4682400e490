"""The demo city (`make run`) publishes its ex-ante figures (事前绩效评估情况): a citizen opening
/figures/ex_ante/ finds the demo's budget year, and its page carries the paragraph made from the
demo's own conclusions."""
from __future__ import annotations

import sqlalchemy as sa

from portal.assessments.models import Assessment, Conclusion
from portal.publishing import operations as publishing


def _public(demo_app, tmp_root):
    import public_site
    from public_site import live
    from public_site.data import RENDERED
    from tests.conftest import FreshRequestClient, app_config

    application = public_site.create_app(app_config(demo_app.config["SQLALCHEMY_DATABASE_URI"], tmp_root / "demo",
                                                    SEARCH_INDEX_DIR=demo_app.config["SEARCH_INDEX_DIR"]))
    application.test_client_class = FreshRequestClient
    RENDERED.clear()  # never a page rendered over another test's database
    live.forget()
    return application.test_client()


def test_demo_publishes_the_ex_ante_figures_of_its_budget_year(demo_app, demo_db, tmp_root):
    year = demo_app.demo["assessment_year"]
    row = publishing.current_figures("ex_ante", year)
    assert row is not None and not row.withdrawn and row.id in demo_app.demo["figures"]
    # the paragraph counts the demo's concluded assessments, counted here
    concluded = demo_db.session.scalars(sa.select(Assessment.conclusion).where(
        Assessment.year == year, Assessment.conclusion.is_not(None))).all()
    rejected = sum(c == Conclusion.REJECT for c in concluded)
    assert len(concluded) >= 5 and rejected >= 1
    paragraph = row.payload["paragraph"]
    assert f"对{len(concluded)}个新增项目开展事前绩效评估，建议取消{rejected}个" in paragraph

    public = _public(demo_app, tmp_root)
    index = public.get("/figures/ex_ante/")
    assert index.status_code == 200 and f"/figures/ex_ante/{year}" in index.get_data(as_text=True)
    page = public.get(f"/figures/ex_ante/{year}")
    assert page.status_code == 200
    assert paragraph in page.get_data(as_text=True)
