"""Run the ``hsmap`` command in a child process and read that process's own peak memory.

VmHWM from /proc/self/status, not ``ru_maxrss``: Linux carries the parent's peak into a child's ru_maxrss across
fork and exec, which would report the benchmark's own memory instead of the command's.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

_SCRIPT = """
import sys
from pathlib import Path
from hsmap.cli.main import app
try:
    app(sys.argv[1:])
except SystemExit as end:
    if end.code:
        raise
status = Path("/proc/self/status").read_text()
print("peak_kib", next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))
"""


def run_command(*args: str) -> int:
    """Run ``hsmap ARGS...`` from the repository root; return its peak memory in MiB."""
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, *args],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    return round(int(done.stdout.rsplit("peak_kib", 1)[1].split()[0]) / 1024)
