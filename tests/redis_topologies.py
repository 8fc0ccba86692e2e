"""Private Redis deployments for tests: a 3-master Cluster, a Sentinel-watched primary with a
replica, and a password-protected server that also speaks TLS.

Each starts ``redis-server`` processes on free ports in a temporary folder, waits until the
deployment answers (never a fixed sleep), and stops them on ``stop()``. ``tests/conftest.py``
wraps them in session-scoped fixtures; use those rather than starting more.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis

HOST = "127.0.0.1"
STARTUP_TIMEOUT = 30.0
SENTINEL_SERVICE = "mymaster"
PASSWORD = "s3cret-pass"


class TopologyError(RuntimeError):
    """A private Redis deployment did not come up in time."""


def redis_server_available() -> bool:
    """Whether ``redis-server`` and ``redis-cli`` are installed."""
    return shutil.which("redis-server") is not None and shutil.which("redis-cli") is not None


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port(*, with_bus: bool = False) -> int:
    """A port nobody listens on (and, ``with_bus``, its Cluster bus port ``+10000`` too)."""
    for _ in range(100):
        with socket.socket() as probe:
            probe.bind((HOST, 0))
            port = int(probe.getsockname()[1])
        if not with_bus or (port + 10000 < 65536 and _port_is_free(port + 10000)):
            return port
    raise TopologyError("no free port found")


def wait_until(check: Callable[[], bool], what: str, timeout: float = STARTUP_TIMEOUT) -> None:
    """Poll ``check`` until it is true; raise ``TopologyError`` naming ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (redis.RedisError, OSError):
            pass
        time.sleep(0.05)
    raise TopologyError(f"timed out after {timeout:.0f}s waiting for {what}")


@dataclass
class _Processes:
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="llm-redis-")))
    running: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, name: str, *args: str) -> None:
        with (self.folder / f"{name}.log").open("wb") as log:  # the child keeps its own copy
            self.running.append(
                subprocess.Popen(
                    ["redis-server", *args], cwd=self.folder, stdout=log, stderr=subprocess.STDOUT
                )
            )

    def stop(self) -> None:
        for process in self.running:
            process.terminate()
        for process in self.running:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.running.clear()
        shutil.rmtree(self.folder, ignore_errors=True)


def _server_args(port: int, *extra: str) -> list[str]:
    return [
        "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no",
        "--protected-mode", "no", *extra,
    ]  # fmt: skip


def _pings(port: int, **options: object) -> bool:
    with redis.Redis(host=HOST, port=port, socket_timeout=1, **options) as client:  # type: ignore[arg-type]
        return bool(client.ping())


@dataclass
class RedisCluster:
    """Three masters (no replicas) covering all 16384 slots."""

    ports: list[int]
    processes: _Processes

    @property
    def url(self) -> str:
        """``redis://h:p1,h:p2,h:p3`` (the Cluster form of a URL)."""
        return "redis://" + ",".join(f"{HOST}:{port}" for port in self.ports)

    @classmethod
    def start(cls) -> RedisCluster:
        processes = _Processes()
        ports = [free_port(with_bus=True) for _ in range(3)]
        try:
            for port in ports:
                processes.start(
                    f"cluster-{port}",
                    *_server_args(
                        port,
                        "--cluster-enabled", "yes",
                        "--cluster-config-file", f"nodes-{port}.conf",
                        "--cluster-node-timeout", "2000",
                    ),
                )  # fmt: skip
            for port in ports:
                wait_until(lambda port=port: _pings(port), f"cluster node {port}")
            nodes = [f"{HOST}:{port}" for port in ports]
            subprocess.run(
                ["redis-cli", "--cluster", "create", *nodes, "--cluster-replicas", "0",
                 "--cluster-yes"],
                check=True, capture_output=True, timeout=STARTUP_TIMEOUT,
            )  # fmt: skip
            for port in ports:
                wait_until(lambda port=port: _cluster_ok(port), f"cluster state ok on {port}")
        except BaseException:
            processes.stop()
            raise
        return cls(ports, processes)

    def stop(self) -> None:
        self.processes.stop()


def _cluster_ok(port: int) -> bool:
    with redis.Redis(host=HOST, port=port, socket_timeout=1, decode_responses=True) as client:
        info = client.execute_command("CLUSTER INFO")
    return isinstance(info, dict) and info.get("cluster_state") == "ok"


@dataclass
class RedisSentinel:
    """A primary, one replica and two Sentinels watching them as ``mymaster``."""

    primary_port: int
    replica_port: int
    sentinel_ports: list[int]
    processes: _Processes

    @property
    def sentinel_port(self) -> int:
        """The Sentinel that ``failover()`` asks (the first one in ``url``)."""
        return self.sentinel_ports[0]

    @property
    def url(self) -> str:
        """``redis://h:s1,h:s2/mymaster`` (the Sentinel form of a URL)."""
        sentinels = ",".join(f"{HOST}:{port}" for port in self.sentinel_ports)
        return f"redis://{sentinels}/{SENTINEL_SERVICE}"

    @classmethod
    def start(cls) -> RedisSentinel:
        processes = _Processes()
        primary, replica = free_port(), free_port()
        sentinels = [free_port(), free_port()]
        try:
            no_delay = ("--repl-diskless-sync-delay", "0")
            processes.start("primary", *_server_args(primary, *no_delay))
            processes.start(
                "replica", *_server_args(replica, *no_delay, "--replicaof", HOST, str(primary))
            )
            wait_until(lambda: _replica_linked(replica), "the replica to sync")
            for port in sentinels:
                config = processes.folder / f"sentinel-{port}.conf"
                config.write_text(
                    f"port {port}\nbind {HOST}\nprotected-mode no\n"
                    f"dir {processes.folder}\n"
                    f"sentinel monitor {SENTINEL_SERVICE} {HOST} {primary} 1\n"
                    f"sentinel known-replica {SENTINEL_SERVICE} {HOST} {replica}\n"
                    f"sentinel down-after-milliseconds {SENTINEL_SERVICE} 2000\n"
                    f"sentinel failover-timeout {SENTINEL_SERVICE} 10000\n"
                )
                processes.start(f"sentinel-{port}", str(config), "--sentinel")
            found = cls(primary, replica, sentinels, processes)
            wait_until(found._knows_a_healthy_replica, "Sentinel to discover the replica")
        except BaseException:
            processes.stop()
            raise
        return found

    def primary_address(self) -> tuple[str, int]:
        """The primary as Sentinel reports it to clients now (``SENTINEL MASTER``, which
        switches when a failover completes)."""
        with redis.Redis(host=HOST, port=self.sentinel_port, decode_responses=True) as client:
            state = client.execute_command("SENTINEL", "MASTER", SENTINEL_SERVICE)
        fields = state if isinstance(state, dict) else _pairs(state)
        return str(fields["ip"]), int(fields["port"])

    def failover(self) -> tuple[int, int]:
        """Promote the replica with ``SENTINEL FAILOVER``; returns (old, new) primary ports.

        Waits until Sentinel names the new primary and it takes writes, then reconfigures the
        old primary the way Sentinel does on its next poll of it (up to seconds later):
        ``REPLICAOF`` the new primary and ``CLIENT KILL TYPE normal``, so clients reconnect
        through Sentinel. Earlier writes are replicated first (``WAIT``).
        """
        old = self.primary_address()[1]
        wait_until(self._knows_a_healthy_replica, "a replica ready to promote")
        with redis.Redis(host=HOST, port=old) as primary:
            primary.execute_command("WAIT", 1, 5000)
        with redis.Redis(host=HOST, port=self.sentinel_port) as client:
            client.execute_command("SENTINEL", "FAILOVER", SENTINEL_SERVICE)
        wait_until(lambda: self.primary_address()[1] != old, "Sentinel to switch primaries")
        new = self.primary_address()[1]
        wait_until(lambda: _role(new) == "master", f"{new} to become the primary")
        with redis.Redis(host=HOST, port=old) as demoted:
            demoted.execute_command("REPLICAOF", HOST, new)
            demoted.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
        return old, new

    def _knows_a_healthy_replica(self) -> bool:
        with redis.Redis(host=HOST, port=self.sentinel_port, decode_responses=True) as client:
            replicas = client.execute_command("SENTINEL", "REPLICAS", SENTINEL_SERVICE)
        for replica in replicas:
            fields = replica if isinstance(replica, dict) else _pairs(replica)
            flags = str(fields.get("flags", ""))
            if "down" not in flags and "disconnected" not in flags:
                return fields.get("master-link-status") == "ok"
        return False

    def stop(self) -> None:
        self.processes.stop()


def _pairs(flat: list[str]) -> dict[str, str]:
    return dict(zip(flat[::2], flat[1::2], strict=True))


def _role(port: int) -> str:
    with redis.Redis(host=HOST, port=port, socket_timeout=1, decode_responses=True) as client:
        return str(client.info("replication")["role"])


def _replica_linked(port: int) -> bool:
    with redis.Redis(host=HOST, port=port, socket_timeout=1, decode_responses=True) as client:
        info = client.info("replication")
    return info.get("role") == "slave" and info.get("master_link_status") == "up"


@dataclass
class SecuredRedis:
    """One server that requires a password, on a plain port and a TLS port (its own CA)."""

    port: int
    tls_port: int
    ca_file: Path
    processes: _Processes

    @property
    def url(self) -> str:
        """``redis://default:<password>@h:port/0``."""
        return f"redis://default:{PASSWORD}@{HOST}:{self.port}/0"

    @property
    def tls_url(self) -> str:
        """``rediss://:<password>@h:tls_port/0`` (verify with ``ca_file``)."""
        return f"rediss://:{PASSWORD}@{HOST}:{self.tls_port}/0"

    @classmethod
    def start(cls) -> SecuredRedis:
        processes = _Processes()
        port, tls_port = free_port(), free_port()
        cert, key = processes.folder / "cert.pem", processes.folder / "key.pem"
        try:
            subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", f"/CN={HOST}",
                 "-addext", f"subjectAltName=IP:{HOST}", "-keyout", str(key), "-out", str(cert)],
                check=True, capture_output=True, timeout=STARTUP_TIMEOUT,
            )  # fmt: skip
            processes.start(
                "secured",
                *_server_args(
                    port,
                    "--requirepass", PASSWORD,
                    "--tls-port", str(tls_port),
                    "--tls-cert-file", str(cert),
                    "--tls-key-file", str(key),
                    "--tls-ca-cert-file", str(cert),
                    "--tls-auth-clients", "no",
                ),
            )  # fmt: skip
            wait_until(lambda: _pings(port, password=PASSWORD), "the password-protected server")
        except BaseException:
            processes.stop()
            raise
        return cls(port, tls_port, cert, processes)

    def stop(self) -> None:
        self.processes.stop()
