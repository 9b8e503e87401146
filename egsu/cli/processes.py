"""Run the web server, a worker and the scheduler as one command (`egsu serve`, the embedded default).

The children run in their own process groups, so a Ctrl-C reaches only this supervisor, which asks
each child once to stop (SIGTERM): the web server finishes its requests, the worker its running
jobs. A second Ctrl-C asks again (the worker then hands its jobs back at once); whatever still runs
after the grace time is killed. If one child dies, the others are stopped and its status returned.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import subprocess
import sys
import time

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Linux: a child gets SIGTERM if the supervisor itself is killed, so nothing is left behind."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def egsu_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "egsu.cli", *args]


def supervise(commands: dict[str, list[str]], *, grace: float = 45.0) -> int:
    children = {
        name: subprocess.Popen(argv, process_group=0, preexec_fn=_die_with_parent)  # noqa: PLW1509
        for name, argv in commands.items()
    }
    asked: list[float] = []

    def ask_to_stop(signum=None, frame=None) -> None:
        asked.append(time.monotonic())
        for child in children.values():
            if child.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    child.send_signal(signal.SIGTERM)

    previous = {s: signal.signal(s, ask_to_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    status = 0
    try:
        while any(child.poll() is None for child in children.values()):
            ended = [(n, c.returncode) for n, c in children.items() if c.returncode is not None]
            if ended and not asked:
                name, code = ended[0]
                sys.stderr.write(f"egsu: the {name} stopped (status {code}); stopping the others\n")
                status = code or 1
                ask_to_stop()
            if asked and time.monotonic() - asked[0] > grace:
                for child in children.values():
                    if child.poll() is None:
                        child.kill()
            time.sleep(0.2)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return status
