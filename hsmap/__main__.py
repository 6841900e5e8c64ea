"""``python -m hsmap``: the ``hsmap`` command, for environments where the script is not on the PATH; the same
SIGTERM-safe entry as the installed script."""

from hsmap.cli.main import run

run(prog_name="hsmap")
