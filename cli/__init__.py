"""The ``hsmap`` command line: thin typer commands over the ``hsmap`` library."""

import os

# hsmap never multiplies matrices, but numpy's OpenBLAS starts a thread per core on import that spins for about
# a tenth of a second of CPU: on two cores, time taken from reading and classifying. Set before numpy is imported
# (the command modules import it); a value the user set is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
