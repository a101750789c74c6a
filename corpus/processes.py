"""Whether a process still runs: a staging folder named after a live process is in use, one of a dead process is
left over from a kill and may be cleaned up."""

from __future__ import annotations

import os


def process_alive(pid: int | None) -> bool:
    """True while process pid exists (also when it belongs to another user); False for None or a gone process."""
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
