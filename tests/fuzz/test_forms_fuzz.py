"""Every POST form route of the portal, fuzzed as every demo role: malformed numbers, dates,
enum values, control characters, very long and non-UTF-8 text, missing and duplicated fields.
No answer is a 500, and a refused request (4xx) leaves every table's row count unchanged."""
from __future__ import annotations

from tests.fuzz import harness
from tests.fuzz.fuzzing import Findings, fuzz_route

POST_EXAMPLES = 45


def test_every_post_form_survives_malformed_input(fuzz_world, form_names):
    findings = Findings()
    fields = sorted(harness.form_field_names() | {n for names in form_names.values() for n in names})
    for route in harness.routes_of(fuzz_world["app"], method="POST"):
        own = sorted(form_names.get(route.endpoint, ()))
        names = own + [n for n in fields if n not in own][: 8]  # its own fields first, a few strangers
        fuzz_route(fuzz_world, route, method="POST", examples=POST_EXAMPLES, names=names, findings=findings)
    findings.check()
