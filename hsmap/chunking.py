"""How many rows a chunk holds when files are streamed: the one setting that bounds memory.

It lives apart from the readers (:mod:`hsmap.io`) so that the command line can show it in ``--help`` without
importing pandas and pyarrow.
"""

CHUNK_ROWS = 250_000
