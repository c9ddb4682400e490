"""URL converters of both faces. `<int:id>` accepts only ids that fit the database's integer
(1 … 2**31 − 1, PostgreSQL's INTEGER): a longer number is a 404 like any other missing record, never an overflow."""
from werkzeug.routing import IntegerConverter

DB_INTEGER_MAX = 2**31 - 1  # id columns are INTEGER: 32 bits on PostgreSQL


class DatabaseIdConverter(IntegerConverter):
    def __init__(self, map, *args, **kwargs):  # noqa: A002  werkzeug's signature
        kwargs.setdefault("max", DB_INTEGER_MAX)
        super().__init__(map, *args, **kwargs)


def init_app(app) -> None:
    """Call before any blueprint is registered (rules bind their converters when added)."""
    app.url_map.converters["int"] = DatabaseIdConverter
    from portal.core import parsing  # the rest of the edge: query/form values, form text rules

    parsing.init_app(app)
