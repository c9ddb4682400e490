"""Text stored before input was cleaned (written here straight into the database, past every
form) never breaks an export: every .xlsx, .docx, .csv and chart download of both faces still
answers 200 with a document that opens, and no header carries a CR/LF."""
from __future__ import annotations

import io

import sqlalchemy as sa

from tests.fuzz import harness

POISON = "\x01\x0b\x1f\x7f\ufffe"  # all forbidden in XML 1.0 (openpyxl, python-docx)
COLUMNS = {
    "projects": ["name", "description", "stop_reason"],
    "indicators": ["name", "target_text"],
    "performance_goals": ["overall_goal", "review_comment"],
    "problems": ["description", "policy_basis", "requirement", "person_responsible", "measures"],
    "conference_actions": ["text"],
    "conference_meetings": ["place", "agenda", "minutes", "distribution"],
    "inquiry_letters": ["title", "body", "copies", "contact_person"],
    "inquiry_items": ["description"],
    "review_reports": ["title"],
    "review_comments": ["text", "location"],
    "organisations": ["short_name"],
    "evaluation_findings": ["description", "suggestion"],
    "library_documents": ["title", "note"],
}
EXPORT_HINTS = ("export", ".xlsx", ".docx", ".csv", ".svg", "/print")


def _poison(world) -> None:
    app, db = world["app"], world["db"]
    with app.app_context(), db.engine.begin() as conn:
        for table, columns in COLUMNS.items():
            for column in columns:
                conn.execute(sa.text(f'UPDATE "{table}" SET "{column}" = "{column}" || :p WHERE "{column}" IS NOT NULL'),
                             {"p": POISON})
        # a letter title with a line break: its .docx download name must stay one header line
        conn.execute(sa.text("UPDATE inquiry_letters SET title = title || :t"), {"t": "\r\n第二行"})


def _opens(response) -> None:
    data = response.get_data()
    if response.mimetype.endswith("spreadsheetml.sheet"):
        from openpyxl import load_workbook

        load_workbook(io.BytesIO(data), read_only=True).close()
    elif response.mimetype.endswith("wordprocessingml.document"):
        import docx

        docx.Document(io.BytesIO(data))
    for name, value in response.headers.items():
        assert "\r" not in value and "\n" not in value, (name, value)


def _failures(client, path: str, who: str) -> list[str]:
    """GET `path`: an answer of 500 or more, or a 200 whose file does not open, is a failure."""
    response = client.get(path)
    harness.REPORT["requests"] += 1
    harness.REPORT["statuses"][response.status_code] += 1
    if response.status_code >= 500:
        return [f"{response.status_code} {path} {who}"]
    if response.status_code == 200:
        try:
            _opens(response)
        except Exception as error:  # noqa: BLE001  reported with its path
            return [f"{path} {who}: {error!r}"]
    return []


def test_stored_control_characters_never_break_an_export(fuzz_world):
    _poison(fuzz_world)
    pools = fuzz_world["pools"]
    failures, checked = [], 0
    for route in harness.routes_of(fuzz_world["app"], method="GET"):
        if not any(h in route.rule for h in EXPORT_HINTS):
            continue
        # a few records of each kind (a route without one, or with fewer records, once each)
        paths = dict.fromkeys(harness.path_for(route, pools, lambda xs, i=index: xs[min(i, len(xs) - 1)])
                              for index in range(3))
        for role in ("admin", "finance", "audit", "unit"):
            for path in paths:
                for query in ("", "?format=xlsx"):
                    failures += _failures(fuzz_world["clients"][role], path + query, f"as {role}")
                    checked += 1
    public = fuzz_world["public"].test_client()
    for route in harness.routes_of(fuzz_world["public"], method="GET"):
        if route.arguments:
            continue
        for query in ("", "?format=csv", "?format=xlsx", "?format=json"):
            failures += _failures(public, route.rule + query, "on the public site")
            checked += 1
    assert checked > 50
    assert not failures, "\n".join(failures)
