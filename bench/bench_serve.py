"""`cbt-infer serve` figures: time from start to listening and to ready, time to the first
streamed token through the API and through the page, and requests per second with 4 clients.

  uv run python bench/bench_serve.py [--gguf models/gguf/cbt-student-q4_k_m.gguf]
                                     [--max-new-tokens 32] [--requests 12] [--clients 4]

The student is models/gguf/cbt-student-q4_k_m.gguf when the export stage has run, else the
pinned SmolLM2 GGUF (cbt_train.base_model) with the student's task written into a temp copy;
the screen is models/crisis_probe.json when it exists, else keywords only (said in the
results). The page is timed in headless Chromium (Debian's chromium, Selenium) when installed.
The machine's load average is recorded: other work on a shared CPU slows every figure.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from cbt_testing.bench import write_results

ROOT = Path(__file__).resolve().parents[1]
PROMPTS = [
    "I failed my driving test again, I'm useless.",
    "My boss criticised my report in front of everyone and now I think I'll be fired.",
    "My sister forgot my birthday, nobody in my family cares about me.",
]


def student(explicit: str | None, tmp: Path) -> tuple[Path, str]:
    if explicit:
        return Path(explicit), "given"
    exported = ROOT / "models/gguf/cbt-student-q4_k_m.gguf"
    if exported.is_file():
        return exported, "the exported student (models/gguf)"
    from cbt_infer.gguf_tools import write_task
    from cbt_schema.student import StudentTask
    from cbt_train.base_model import cached_base_model

    gguf = tmp / "student.gguf"
    shutil.copy(next(cached_base_model().glob("*.gguf")), gguf)
    write_task(gguf, StudentTask(StudentTask.builtin().system_prompt))
    return gguf, "the pinned SmolLM2-135M GGUF, untrained (no export in models/gguf)"


def start(gguf: Path, args: argparse.Namespace) -> tuple[subprocess.Popen, str, dict]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    probe = ROOT / "models/crisis_probe.json"
    screen = ["--crisis-probe", str(probe.relative_to(ROOT))] if probe.is_file() else [
        "--no-crisis-probe"]
    cmd = [str(Path(sys.executable).parent / "cbt-infer"), "serve", "--gguf", str(gguf),
           "--port", str(port), "--max-new-tokens", str(args.max_new_tokens),
           "--queue", str(args.clients), "-q", *screen]
    began = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    listening = None
    while True:
        if proc.poll() is not None:
            sys.exit(f"cbt-infer serve exited with {proc.returncode}")
        try:
            health = httpx.get(f"{url}/healthz").json()
        except httpx.TransportError:
            time.sleep(0.01)
            continue
        listening = listening or time.perf_counter() - began
        if health["status"] == "ok":
            return proc, url, {"listening_s": round(listening, 3),
                               "ready_s": round(time.perf_counter() - began, 3),
                               "screen": health["screen"]}
        if health["status"] == "error":
            sys.exit(health["error"])
        time.sleep(0.01)


def api_first_token(url: str) -> list[float]:
    times = []
    for prompt in PROMPTS:
        began = time.perf_counter()
        body = {"situation": prompt, "stream": True}
        with httpx.stream("POST", f"{url}/v1/assess", json=body, timeout=600) as response:
            lines = response.iter_lines()
            for line in lines:
                if line.startswith("event: token"):
                    times.append(time.perf_counter() - began)
                    break
            for _ in lines:  # the rest of the answer, so the next one starts on a free slot
                pass
    return times


def page_first_token(url: str) -> list[float] | str:
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver_path):
        return "no chromium installed"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    times = []
    try:
        for prompt in PROMPTS:
            driver.get(url)
            while driver.execute_script("return document.getElementById('status')"
                                        ".dataset.state") != "ok":
                time.sleep(0.02)
            driver.find_element("id", "situation").send_keys(prompt)
            driver.execute_script(
                "window.t0 = performance.now(); window.t1 = null;"
                "new MutationObserver((m, o) => { if (document.querySelector('#cards .card'))"
                " { window.t1 = performance.now(); o.disconnect(); } })"
                ".observe(document.getElementById('cards'), {childList: true, subtree: true});"
                "document.getElementById('submit').click();")
            while (ms := driver.execute_script("return window.t1 && window.t1 - window.t0")) \
                    is None or ms == 0:
                time.sleep(0.02)
            times.append(ms / 1000)
            while driver.execute_script("return document.getElementById('answer')"
                                        ".dataset.state") == "writing":
                time.sleep(0.05)
    finally:
        driver.quit()
    return times


def throughput(url: str, requests: int, clients: int) -> dict:
    def ask(n: int) -> int:
        body = {"situation": PROMPTS[n % len(PROMPTS)] + f" ({n})"}
        return httpx.post(f"{url}/v1/assess", json=body, timeout=600).status_code

    began = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        codes = list(pool.map(ask, range(requests)))
    wall = time.perf_counter() - began
    return {"requests": requests, "clients": clients, "wall_s": round(wall, 2),
            "requests_per_s": round(codes.count(200) / wall, 3),
            "status_counts": {str(c): codes.count(c) for c in sorted(set(codes))}}


def median(values) -> float | str:
    return round(statistics.median(values), 3) if isinstance(values, list) else values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gguf")
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--requests", type=int, default=12)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    import os

    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        gguf, which = student(args.gguf, Path(tmp))
        proc, url, startup = start(gguf, args)
        try:
            api = api_first_token(url)
            page = page_first_token(url)
            rate = throughput(url, args.requests, args.clients)
        finally:
            proc.terminate()
            proc.wait(60)
    write_results("serve", {"serve": {
        "student": which, "max_new_tokens": args.max_new_tokens,
        "load_average_before": round(load, 2), **startup,
        "first_token_api_s": median(api), "first_token_page_s": median(page),
        "first_token_runs": len(PROMPTS), **rate,
        "note": "one generation at a time (one llama.cpp context); the 4 clients queue. "
                "Wall times depend on other load on the cores (load_average_*)"}})


if __name__ == "__main__":
    main()
