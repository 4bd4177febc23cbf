from __future__ import annotations


class QueueError(Exception):
    """A change the queue cannot make now. The message is written for the person asking.

    `field` names the input at fault (for a 422), or is None when the state of the
    ticket or window is what forbids it (a 409).
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
