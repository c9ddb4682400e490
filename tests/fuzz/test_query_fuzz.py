"""Every GET page of both faces (lists, search, exports, detail pages), fuzzed as every demo
role over every query parameter the views read: no 500, and a GET never changes a table."""
from __future__ import annotations

from tests.fuzz import harness
from tests.fuzz.fuzzing import Findings, fuzz_route

GET_EXAMPLES = 40
PUBLIC_EXAMPLES = 100


def test_every_portal_page_survives_malformed_query_strings(fuzz_world):
    findings = Findings()
    for route in harness.routes_of(fuzz_world["app"], method="GET"):
        fuzz_route(fuzz_world, route, method="GET", examples=GET_EXAMPLES, names=harness.QUERY_NAMES,
                   findings=findings)
    findings.check()


def test_every_public_page_survives_malformed_query_strings(fuzz_world):
    findings = Findings()
    public = fuzz_world["public"]
    clients = {"anonymous": public.test_client()}
    for route in harness.routes_of(public, method="GET"):
        fuzz_route(fuzz_world, route, method="GET", examples=PUBLIC_EXAMPLES, names=harness.QUERY_NAMES,
                   findings=findings, app=public, clients=clients)
    findings.check()
