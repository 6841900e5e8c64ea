"""``python -m hsmap``: the ``hsmap`` command, for environments where the script is not on the PATH."""

from cli.main import app

app(prog_name="hsmap")
