"""The :class:`Store`: one class gathering loading, queries and the mirror comparison over one DuckDB file."""

from __future__ import annotations

from hsmap.store.load import Loading
from hsmap.store.mirror import Mirroring
from hsmap.store.query import Querying


class Store(Loading, Querying, Mirroring):
    """One DuckDB file holding loaded reports and customs data; use as a context manager.

    ``read_only`` opens an existing store for queries only (several readers may share it; a writer needs it
    alone). ``path=':memory:'`` gives a throw-away store.
    """
