"""`cbt-infer serve` as a person starts it: a process on 127.0.0.1, the student and the learned
probe loading in the background, nothing of what people write in its log, and SIGTERM that
lets the answer being written finish before it exits."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("starlette", reason="extra cbt-infer[serve] not installed")

SECRET = "My flatmate ate my leftovers again and I am fuming."


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_the_command_serves_with_the_probe_logs_no_content_and_drains_on_sigterm(
        serve_student: Path, trained_probe: dict[str, Path], unseen_crisis: list[str],
        tmp_path: Path) -> None:
    port = free_port()
    cmd = [sys.executable, "-c", "from cbt_infer.cli import main; main()", "serve",
           "--gguf", str(serve_student), "--crisis-probe", str(trained_probe["probe"]),
           "--port", str(port), "--max-new-tokens", "24", "--n-ctx", "1024"]
    log = tmp_path / "serve.log"
    with log.open("w") as sink:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        seen = set()
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "not ready in 180 s"
            try:
                health = httpx.get(f"{url}/healthz").json()
            except httpx.ConnectError:
                time.sleep(0.05)
                continue
            seen.add(health["status"])
            if health["status"] == "ok":
                break
            time.sleep(0.05)
        assert health["backend"] == "llama" and health["student"] == str(serve_student)
        assert health["screen"].startswith("keywords, then the learned probe")
        assert health["ready_s"] > 0
        # the probe decides what the keywords miss
        probed = httpx.post(f"{url}/v1/assess", json={"situation": unseen_crisis[0]},
                            timeout=120).json()
        assert probed["tier"] in ("possible", "likely")
        assert any(s.startswith("learned screen") for s in probed["signals"])
        # SIGTERM mid-answer: the answer finishes, then the process exits cleanly
        body = {"situation": SECRET, "stream": True}
        with httpx.stream("POST", f"{url}/v1/assess", json=body, timeout=120) as response:
            lines = response.iter_lines()
            for line in lines:
                if line.startswith("event: token"):
                    proc.send_signal(signal.SIGTERM)
                    break
            rest = [line for line in lines if line.startswith("event: ")]
        assert rest[-1] == "event: result"
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = log.read_text()
    assert "POST /v1/assess 200" in text and "stopped" in text
    assert SECRET not in text and unseen_crisis[0] not in text  # no content in the log
    assert "Traceback" not in text
    assert json.dumps(SECRET)[1:20] not in text
