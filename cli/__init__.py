"""The ``hsmap`` command line: thin typer commands over the ``hsmap`` library."""
