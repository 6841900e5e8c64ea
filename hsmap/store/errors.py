"""The one error the store raises of its own (loading errors are :mod:`hsmap.report`'s and :mod:`hsmap.errors`')."""

from __future__ import annotations

from hsmap.errors import HsmapError


class StoreError(HsmapError):
    """A store that cannot be opened or a query that cannot be answered; the message says why."""
