"""Administrator-configurable rules (stored in `performance_settings` as JSON):
monitoring thresholds, the common evaluation framework's weights, result-application rules."""
from __future__ import annotations

import json
from decimal import Decimal

from portal.core import clock
from portal.core.locale import N_
from portal.extensions import db
from portal.performance.models import Grade, PerformanceSetting
from portal.performance.monitoring import Thresholds

THRESHOLDS = "monitoring_thresholds"
FRAMEWORK = "framework_weights"
RESULT_RULES = "result_rules"

# 共性指标框架: 决策 / 过程 / 产出 / 效益 (output + benefit ≥ 60 in practice)
FRAMEWORK_PARTS = [("decision", N_("决策")), ("process", N_("过程")), ("output", N_("产出")), ("benefit", N_("效益"))]
DEFAULT_FRAMEWORK = {"decision": 15, "process": 15, "output": 35, "benefit": 35}

# Grade → suggested adjustment for next year's budget (结果应用). percent: change of the budget;
# None with no_budget=True: no budget; priority: 优先保障.
DEFAULT_RESULT_RULES = {
    "excellent": {"percent": 0, "no_budget": False, "priority": True, "text": "优先保障"},
    "good": {"percent": 0, "no_budget": False, "priority": False, "text": "维持"},
    "fair": {"percent": -10, "no_budget": False, "priority": False, "text": "压减10%"},
    "poor": {"percent": -100, "no_budget": True, "priority": False, "text": "原则上不予安排预算"},
}


def _load(key: str, default):
    row = db.session.get(PerformanceSetting, key)
    if row is None:
        return default
    try:
        return json.loads(row.value)
    except ValueError:
        return default


def setting_row(key: str) -> PerformanceSetting | None:
    return db.session.get(PerformanceSetting, key)


def store(key: str, value) -> PerformanceSetting:
    """Write one setting (called by operations, which check its version and audit it)."""
    row = db.session.get(PerformanceSetting, key) or PerformanceSetting(key=key)
    row.value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    row.updated_at = clock.now()
    db.session.add(row)
    db.session.flush()
    return row


_store = store


def thresholds() -> Thresholds:
    data = _load(THRESHOLDS, {})
    base = Thresholds()
    try:
        return Thresholds(**{k: Decimal(str(data.get(k, getattr(base, k)))) for k in
                             ("red_below", "green_from", "blue_from", "lag_points")})
    except Exception:
        return base


def store_thresholds(t: Thresholds) -> None:
    t.validate()
    _store(THRESHOLDS, {k: str(getattr(t, k)) for k in ("red_below", "green_from", "blue_from", "lag_points")})


def framework_weights() -> dict[str, Decimal]:
    data = _load(FRAMEWORK, DEFAULT_FRAMEWORK)
    return {part: Decimal(str(data.get(part, DEFAULT_FRAMEWORK[part]))) for part, _label in FRAMEWORK_PARTS}


def store_framework_weights(weights: dict) -> None:
    _store(FRAMEWORK, {k: str(v) for k, v in weights.items()})


def result_rules() -> dict[str, dict]:
    data = _load(RESULT_RULES, {})
    return {g.value: {**DEFAULT_RESULT_RULES[g.value], **data.get(g.value, {})} for g in Grade}


def store_result_rules(rules: dict) -> None:
    _store(RESULT_RULES, rules)
