"""Named scales. A module's generator reads what it needs from here (add fields freely)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    name: str
    counties: int  # 县（市、区）; the city scale is one area
    departments_per_county: int  # 主管部门 per county (drawn from the department list)
    units_per_department: tuple[int, int]  # 下属单位 per department (min, max)
    years: tuple[int, ...]
    projects: int  # in total, over all years
    indicators_per_goal: tuple[int, int]
    evaluated_share: float  # share of projects with an evaluation
    findings_per_evaluation: float  # mean
    reports: int  # evaluation report texts (attachments)
    report_pages: tuple[int, int]
    agencies: int
    problems: int  # 问题台账: problems listed in total (most from evaluation findings)
    letters: int  # 函询: letters between the two bureaus
    review_share: float  # 同审: share of agency-run finance evaluations whose report is co-reviewed
    assessments: int = 0  # 事前评估: new projects of the next budget year assessed ex ante
    team_share: float = 0.0  # 联合评价组: share of the key (finance) evaluations with a joint team


SCALES = {
    "tiny": Scale("tiny", counties=2, departments_per_county=4, units_per_department=(1, 2), years=(2024, 2025),
                  projects=60, indicators_per_goal=(6, 12), evaluated_share=1.0, findings_per_evaluation=0.5,
                  reports=4, report_pages=(1, 2), agencies=3,
                  problems=40, letters=8, review_share=1.0, assessments=40, team_share=1.0),
    # the demo: ~300 budget units, ~1,000 projects (see "Realistic scale" in the domain primer)
    "city": Scale("city", counties=1, departments_per_county=30, units_per_department=(6, 12), years=(2024, 2025),
                  projects=1_000, indicators_per_goal=(6, 14), evaluated_share=1.0, findings_per_evaluation=0.5,
                  reports=30, report_pages=(4, 8), agencies=8,
                  problems=500, letters=60, review_share=0.8, assessments=60, team_share=0.5),
    # the design target: 100 counties, ~100,000 projects, ~1,000,000 indicators, ~100,000 evaluations
    "province": Scale("province", counties=100, departments_per_county=16, units_per_department=(1, 4),
                      years=(2023, 2024, 2025), projects=100_000, indicators_per_goal=(7, 14),
                      evaluated_share=1.0, findings_per_evaluation=0.5, reports=2_000, report_pages=(4, 8),
                      agencies=40, problems=50_000, letters=5_000, review_share=0.6,
                      assessments=4_000, team_share=0.3),
}
