"""axe-core in the browser tests (`make setup` fetches it from the npm registry; it is never
served): `load(page)` before the page opens anything, then `serious_violations(page)` on each
page to check. Added to every document the page opens through the browser's debugger, so no
inline script stands for the Content-Security-Policy to refuse, and the 500 kB source crosses
to the browser once instead of once per page."""
import pytest

from portal.config import PROJECT_ROOT

AXE = PROJECT_ROOT / ".cache" / "npm" / "axe.min.js"
SERIOUS = """async () => (await axe.run(document, {resultTypes: ['violations']}))
    .violations.filter(v => v.impact === 'critical' || v.impact === 'serious')
    .map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))"""


def load(page) -> None:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make setup` (axe-core comes from the npm registry)")
    page.add_init_script(path=str(AXE))


def serious_violations(page) -> list[str]:
    """The critical and serious violations axe finds on the page as it stands."""
    return page.evaluate(SERIOUS)
