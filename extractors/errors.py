"""Why a URL could not be fetched, marked transient (try again later) or terminal.

Its own module, light to import: a failed page travels with its error to the extraction worker processes,
which must not load the HTTP stack (httpx, h2, anyio: ~15 MB each) just to unpickle it.
"""

from __future__ import annotations

from extractors.urls import redact_url


class FetchError(Exception):
    """A URL could not be fetched. `transient` says whether trying again later may work."""

    def __init__(self, reason: str, transient: bool, status: int | None = None, kind: str = "error",
                 retry_after: float | None = None, retry_later: bool = False):
        reason = redact_url(reason)  # messages carry URLs into logs and the warehouse: no credentials
        super().__init__(reason)
        self.reason = reason
        self.transient = transient
        self.status = status
        self.kind = kind  # short code: timeout, connect, http_status, too_large, blocked_address, robots...
        self.retry_after = retry_after  # seconds the server asked us to wait (429/503), when it said
        # Transient, but not worth another try within this run: the transfer used its whole time budget,
        # or the server asked for a longer pause than a run gives. The next run tries again.
        self.retry_later = transient and retry_later

    def __reduce__(self) -> tuple:
        # Pickled with its fields (a failed page travels to the worker processes with its error); the
        # default would call __init__ with the message alone.
        return (_rebuild_fetch_error, (type(self), self.__dict__))

    def __str__(self) -> str:
        return f"{self.reason} (status {self.status})" if self.status else self.reason


def _rebuild_fetch_error(cls: type[FetchError], fields: dict) -> FetchError:
    error = cls.__new__(cls)
    Exception.__init__(error, fields.get("reason", ""))
    error.__dict__.update(fields)
    return error
