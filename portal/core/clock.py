"""The one clock: China local time (Asia/Shanghai), stored naive. Tests freeze it."""
import contextlib
from datetime import date, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")
_frozen: datetime | None = None


def now() -> datetime:
    if _frozen is not None:
        return _frozen
    return datetime.now(CHINA).replace(tzinfo=None, microsecond=0)


def today() -> date:
    return now().date()


@contextlib.contextmanager
def frozen(at: datetime | date):
    """Freeze now()/today() inside the block: `with clock.frozen(date(2026, 10, 8)): ...`."""
    global _frozen
    if not isinstance(at, datetime):
        at = datetime(at.year, at.month, at.day, 9, 0)
    previous, _frozen = _frozen, at
    try:
        yield at
    finally:
        _frozen = previous
