"""Paging for every list: `paginate(stmt, page)` → Page with items, total and page links."""
from __future__ import annotations

import math
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app, request

from portal.extensions import db


@dataclass
class Page:
    items: list
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


def page_arg(name: str = "page") -> int:
    try:
        value = int(request.args.get(name, 1))
    except (TypeError, ValueError):
        value = 1
    return min(max(value, 1), 100_000)


def paginate(stmt, page: int | None = None, per_page: int | None = None, scalars: bool = True) -> Page:
    page = page or page_arg()
    per_page = per_page or current_app.config.get("PAGE_SIZE", 20)
    count_stmt = sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
    total = db.session.execute(count_stmt).scalar_one()
    result = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page))
    items = list(result.scalars() if scalars else result.all())
    return Page(items=items, page=page, per_page=per_page, total=total)
