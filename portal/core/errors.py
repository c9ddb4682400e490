"""Domain errors that views turn into clear messages (never a 500)."""


class DomainError(Exception):
    """A business rule refused the action; the message is shown to the user as is."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class IllegalTransition(DomainError):
    pass


class NotPermitted(DomainError):
    pass


class StaleRecord(DomainError):
    """The form was made for an earlier state of the record."""


class ItemsRefused(DomainError):
    """Items of an all-or-nothing request (an API's bulk body) were refused: nothing was saved.
    `details` holds one {"index", "field", "message"} per refusal, `collection` names the
    body's list ("projects", "items") so a client reads the dotted path of each refused field;
    `stale` when an item was refused for its version (the API answers 409, otherwise 422)."""

    def __init__(self, message: str, details: list[dict], *, collection: str, stale: bool = False):
        super().__init__(message)
        self.details, self.collection, self.stale = details, collection, stale

    def fields(self) -> dict[str, str]:
        return {".".join(str(part) for part in (self.collection, d["index"], d.get("field")) if part is not None):
                d["message"] for d in self.details}
