"""Paging for every list: `paginate(stmt, page)` → Page with items, total and page links."""
from __future__ import annotations

import math
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from portal.core import parsing
from portal.extensions import db


class PageNumbers:
    """Page arithmetic for anything with `page`, `per_page` and `total` (a list's Page, the
    public search's Results)."""

    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    def window(self, size: int = 2) -> list[int | None]:
        """Page numbers to show, None standing for an ellipsis."""
        shown = {1, self.pages, *range(max(1, self.page - size), min(self.pages, self.page + size) + 1)}
        result, last = [], 0
        for n in sorted(shown):
            if n - last > 1:
                result.append(None)
            result.append(n)
            last = n
        return result


@dataclass
class Page(PageNumbers):
    items: list
    page: int
    per_page: int
    total: int


def page_arg(name: str = "page") -> int:
    """?page= as a page number: junk, zero, negative or huge is page 1 (core/parsing.py)."""
    return parsing.arg_page(name)


def paginate(stmt, page: int | None = None, per_page: int | None = None, scalars: bool = True) -> Page:
    page = min(max(int(page or page_arg()), 1), parsing.MAX_PAGE)
    per_page = min(max(int(per_page or current_app.config.get("PAGE_SIZE", 20)), 1), parsing.MAX_PER_PAGE)
    count_stmt = sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
    total = db.session.execute(count_stmt).scalar_one()
    result = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page))
    items = list(result.scalars() if scalars else result.all())
    return Page(items=items, page=page, per_page=per_page, total=total)
