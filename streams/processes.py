"""Child processes that never outlive their parent."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> Callable[[], None] | None:
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)

    def preexec() -> None:
        # The kernel sends SIGTERM to the child when the parent dies, even by kill -9.
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return preexec


def spawn(
    args: Sequence[str], log_path: Path, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start `args` in its own session (no terminal SIGINT), output to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log_file:
        return subprocess.Popen(
            list(args),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            start_new_session=True,
            preexec_fn=_die_with_parent(),
        )


def stop(process: subprocess.Popen[bytes], timeout_s: float = 30.0) -> int:
    """SIGTERM, wait up to `timeout_s`, then SIGKILL; return the exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def tail(path: Path, lines: int = 15) -> str:
    """The last lines of a log file, or an empty string if it does not exist."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def python_module_args(module: str, *args: str) -> list[str]:
    """argv to run a module with this interpreter."""
    return [sys.executable, "-m", module, *args]


def environ_with(extra: Mapping[str, str]) -> dict[str, str]:
    """This process's environment plus `extra`."""
    return {**os.environ, **extra}
