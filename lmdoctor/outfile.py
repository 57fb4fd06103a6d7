"""--output files, written atomically: a temporary file in the same folder, then a rename.

A reader never sees half a report: node_exporter's textfile collector reads *.prom files while
a cron job rewrites them, and a crash mid-write must leave the previous file whole.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile


def _mode_for(path: str) -> int:
    """The existing file's permissions, else what open() would give (0666 minus the umask)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def write_atomic(path: str, text: str) -> None:
    """Write `text` (UTF-8) to `path` atomically. A path that exists and is not a regular file
    (/dev/stdout, a FIFO) is written directly: it cannot be replaced. Raises OSError."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            with open(path, "w", encoding="utf-8") as out:
                out.write(text)
            return
    except FileNotFoundError:
        pass
    path = os.path.realpath(path)  # a symlink stays: the file it points to is replaced
    folder = os.path.dirname(os.path.abspath(path))
    # The name starts with a dot and ends in .tmp: node_exporter reads only *.prom files.
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
