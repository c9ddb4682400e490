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
