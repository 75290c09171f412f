"""Apache Kafka for the tests: a single KRaft broker+controller from Maven Central's jars.

The jars come from `tests/kafka/pom.xml`, resolved once with
`mvn dependency:copy-dependencies` into `.cache/kafka/<version>-<pom hash>/` (ignored by git;
later runs reuse it). The broker runs as `java -cp '<jars>/*' kafka.Kafka server.properties`
after `kafka.tools.StorageTool format` with a random cluster id, on a free loopback port and a
temporary log dir. It dies with the test process (PR_SET_PDEATHSIG, as `streams.processes.spawn`
does for Tansu) and is stopped with SIGTERM, then SIGKILL.

`python -m tests.support.kafka_server` resolves the jars (the Makefile runs it before pytest).
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import TracebackType

from streams.errors import BrokerError
from streams.harness.broker import free_port, port_in_use
from streams.processes import spawn, stop, tail

ROOT = Path(__file__).resolve().parents[2]
POM = ROOT / "tests" / "kafka" / "pom.xml"
CACHE = ROOT / ".cache" / "kafka"
HEAP = "-Xmx512m"
RESOLVE_TIMEOUT_S = 900.0
READY_LINE = "Kafka Server started"


def kafka_version() -> str:
    """The Kafka version the pom pins."""
    found = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", POM.read_text())
    if found is None:
        raise BrokerError(f"{POM} has no <kafka.version>")
    return found.group(1)


def jars_dir() -> Path:
    """Where the jars of the current pom are cached (a new folder when the pom changes)."""
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()[:12]
    return CACHE / f"{kafka_version()}-{digest}"


def resolve_jars() -> Path:
    """The folder holding the broker's jars, downloading them with Maven on first use."""
    target = jars_dir()
    marker = target / f"kafka_2.13-{kafka_version()}.jar"
    if marker.exists():
        return target
    mvn = shutil.which("mvn")
    if mvn is None:
        raise BrokerError("Maven (mvn) is not installed; run `make tools` (apt: maven)")
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test process may be resolving them
        if marker.exists():
            return target
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        try:
            done = subprocess.run(
                [
                    mvn,
                    "-q",
                    "-B",
                    "-f",
                    str(POM),
                    "dependency:copy-dependencies",
                    f"-DoutputDirectory={partial}",
                ],
                capture_output=True,
                text=True,
                timeout=RESOLVE_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as e:
            raise BrokerError(f"Maven did not resolve {POM} in {RESOLVE_TIMEOUT_S:.0f}s") from e
        if done.returncode != 0 or not (partial / marker.name).exists():
            output = (done.stdout + done.stderr).strip().splitlines()[-5:]
            raise BrokerError(f"Maven could not resolve {POM}: {' / '.join(output)}")
        partial.rename(target)  # only a complete download counts as cached
    return target


def java_major(java: str) -> int:
    """The major version of `java` (17 for 17.0.15)."""
    done = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    found = re.search(r'version "(\d+)', done.stderr)
    return int(found.group(1)) if found else 0


def random_cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes, URL-safe base64 without padding, and without a
    "-" (one in front reads as an option on the command line; Kafka's own
    `Uuid.randomUuid`, clients/src/main/java/org/apache/kafka/common/Uuid.java, draws again
    when its text starts with a dash, newer versions when it contains one)."""
    while True:
        found = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if "-" not in found:
            return found


def server_properties(log_dir: Path, host: str, port: int, controller_port: int) -> str:
    """A single combined broker+controller with one-replica internal topics."""
    return "\n".join(
        [
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@{host}:{controller_port}",
            f"listeners=PLAINTEXT://{host}:{port},CONTROLLER://{host}:{controller_port}",
            f"advertised.listeners=PLAINTEXT://{host}:{port}",
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            f"log.dirs={log_dir}",
            "num.partitions=1",
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=4",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            "num.network.threads=2",
            "num.io.threads=2",
            "background.threads=2",
            "",
        ]
    )


class KafkaServer:
    """An Apache Kafka broker child process on 127.0.0.1; use as a context manager.

    `kill()` then `start()` restarts it on the same port and log dir, as after a crash.
    """

    def __init__(self, work_dir: Path, host: str = "127.0.0.1") -> None:
        self.host = host
        self.work_dir = work_dir
        self.log_dir = work_dir / "kafka-logs"
        self.log_path = work_dir / "kafka.log"
        self.config_path = work_dir / "server.properties"
        self.port: int | None = None
        self.controller_port: int | None = None
        self.starts = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        """host:port for Kafka clients."""
        return f"{self.host}:{self.port}"

    def _java(self, main: str, *args: str) -> list[str]:
        java = shutil.which("java")
        if java is None or java_major(java) < 17:
            raise BrokerError("Apache Kafka 4 needs Java 17 or newer; run `make tools`")
        return [
            java,
            HEAP,
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-Djava.awt.headless=true",
            "-cp",
            f"{resolve_jars()}/*",
            main,
            *args,
        ]

    def _format(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        assert self.port is not None and self.controller_port is not None
        self.config_path.write_text(
            server_properties(self.log_dir, self.host, self.port, self.controller_port)
        )
        done = subprocess.run(
            self._java(
                "kafka.tools.StorageTool",
                "format",
                "-t",
                random_cluster_id(),
                "-c",
                str(self.config_path),
            ),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise BrokerError(f"kafka-storage format failed: {(done.stdout + done.stderr)[-500:]}")

    def start(self, timeout_s: float = 90.0) -> None:
        """Start the broker (formatting its log dir the first time); wait until it serves."""
        if self.alive():
            raise BrokerError("the Kafka broker is already running")
        if self.port is None:
            self.port, self.controller_port = free_port(self.host), free_port(self.host)
            self._format()
        elif port_in_use(self.host, self.port):
            raise BrokerError(f"port {self.port} on {self.host} is taken; cannot restart Kafka")
        command = self._java("kafka.Kafka", str(self.config_path))
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self._process = spawn(command, self.log_path)
        self.starts += 1
        deadline = time.monotonic() + timeout_s
        while not self._ready(offset):
            if self._process.poll() is not None:
                raise BrokerError(
                    f"Kafka exited with code {self._process.returncode}: {tail(self.log_path, 5)}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise BrokerError(
                    f"Kafka was not ready within {timeout_s:.0f}s; see {self.log_path}"
                )
            time.sleep(0.1)

    def _ready(self, offset: int) -> bool:
        assert self.port is not None
        with self.log_path.open("rb") as f:
            f.seek(offset)
            started = READY_LINE.encode() in f.read()
        return started and port_in_use(self.host, self.port)

    def alive(self) -> bool:
        """Whether the broker process is running."""
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """The broker's process id while it runs."""
        return self._process.pid if self.alive() and self._process is not None else None

    def kill(self) -> None:
        """kill -9 the broker, as a crash would, and reap it."""
        if self._process is None or self._process.poll() is not None:
            raise BrokerError("the Kafka broker is not running")
        os.kill(self._process.pid, signal.SIGKILL)
        self._process.wait(30)

    def stop(self) -> None:
        """SIGTERM (a controlled shutdown), then SIGKILL after 20 s; idempotent."""
        if self._process is not None:
            stop(self._process, timeout_s=20)
            self._process = None

    def __enter__(self) -> KafkaServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main() -> int:
    """Resolve (download or reuse) the broker's jars and print where they are."""
    started = time.monotonic()
    try:
        where = resolve_jars()
    except BrokerError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    jars = len(list(where.glob("*.jar")))
    print(
        f"Apache Kafka {kafka_version()}: {jars} jars in {where.relative_to(ROOT)} "
        f"({time.monotonic() - started:.1f}s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
