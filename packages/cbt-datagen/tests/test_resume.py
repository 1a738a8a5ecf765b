"""Never pay twice, never lose a record: kill -9 mid-run, rerun, larger N."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cbt_schema.jsonl import write_jsonl
from cbt_schema.timings import read_timings
from cbt_testing.teacher_servers.helpers import cli, make_seeds, write_params

N = 40


def _log_ids(path: Path) -> set[str]:
    ids = set()
    for line in path.read_text().splitlines():
        with contextlib.suppress(json.JSONDecodeError, KeyError):
            ids.add(json.loads(line)["request_id"])
    return ids


def _setup(root: Path, prompts: Path, url: str) -> Path:
    write_jsonl(root / "data/seeds.jsonl", make_seeds(N))
    write_params(root / "params.yaml", prompts, url, max_concurrency=2)
    return root


@pytest.mark.slow  # a real subprocess: ~5 s of imports on a loaded 2-core machine
def test_killed_run_resumes_to_the_same_output(anthropic_server, api_key, tmp_path, prompts,
                                               monkeypatch) -> None:
    server = anthropic_server(latency_s=0.04)
    a = _setup(tmp_path / "a", prompts, server.url)
    log = a / ".cache/datagen/events.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-c", "from cbt_datagen.cli import main; main()", "events",
         "--no-progress"], cwd=a, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if log.is_file() and log.read_text().count("\n") >= 10:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(0.3)  # let the server finish replies that were in flight at the kill
    assert not (a / "data/generated/events.jsonl").exists()
    with log.open("a") as fh:  # a torn last line, as a kill during a write leaves it
        fh.write('{"key": "0123')
    paid_before = _log_ids(log)
    assert 10 <= len(paid_before) < N
    served_before = server.served_ok()

    monkeypatch.chdir(a)
    assert cli("events") == 0
    served_after = server.served_ok() - served_before
    assert not paid_before & set(served_after), "a logged reply was requested again"
    assert max(served_after.values()) == 1
    assert len(_log_ids(log)) == N
    assert read_timings("events")["resumed"] == len(paid_before)  # a run fact: a timing

    fresh = anthropic_server(latency_s=0)
    b = _setup(tmp_path / "b", prompts, fresh.url)
    monkeypatch.chdir(b)
    assert cli("events") == 0
    # the same records in the same order; only usage and cost may differ, since which request
    # wrote the prompt cache and which read it depends on timing, as on the real API
    def records(root: Path) -> list[tuple]:
        rows = [json.loads(x) for x in (root / "data/generated/events.jsonl").read_text()
                .splitlines()]
        return [(r["id"], r["seed_id"], r["situation"], r["reaction"],
                 r["provenance"]["request_id"]) for r in rows]

    assert records(a) == records(b) and len(records(a)) == N
    metrics = json.loads((a / "metrics/datagen_events.json").read_text())["events"]
    assert metrics["succeeded"] == N and "resumed" not in metrics


def test_rerun_and_larger_n_request_only_new_items(anthropic_server, api_key, project, prompts,
                                                   capsys) -> None:
    server = anthropic_server()
    write_params(project / "params.yaml", prompts, server.url)
    assert cli("events", "-n", "5") == 0
    assert server.served_ok().total() == 5
    assert cli("events", "-n", "5") == 0
    assert server.served_ok().total() == 5  # nothing asked twice
    assert cli("events") == 0
    assert server.served_ok().total() == 12 and max(server.served_ok().values()) == 1
    assert (project / "data/generated/events.jsonl").read_text().count("\n") == 12
    # the assessments stage resumes the same way, keyed on each event's text
    assert cli("assessments", "-n", "4") == 0
    assert cli("assessments") == 0
    assert server.served_ok().total() == 24
    # temperature is never sent to Anthropic, so changing it asks nothing again
    write_params(project / "params.yaml", prompts, server.url, temperature=0.5)
    assert cli("events", "-n", "2") == 0
    assert server.served_ok().total() == 24
    # a parameter that changes the reply (effort) makes new request ids: asked again
    write_params(project / "params.yaml", prompts, server.url, effort="low")
    assert cli("events", "-n", "2") == 0
    assert server.served_ok().total() == 26
    capsys.readouterr()
