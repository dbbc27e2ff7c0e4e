"""``make bench``: measure callyard against a bare Starlette route in the same run and rewrite
docs/performance.md with the figures and ratios. No assertion: numbers, not pass/fail."""
from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
RUNS = 5
REQUESTS = 300


def start(cmd: list[str], port: int) -> tuple[subprocess.Popen, float]:
    began = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/_callyard/health"
    while True:
        try:
            if httpx.get(url, timeout=0.2).status_code == 200:
                return proc, time.perf_counter() - began
        except httpx.HTTPError:
            pass
        if time.perf_counter() - began > 30:
            proc.kill()
            raise RuntimeError(f"{cmd} did not become ready")
        time.sleep(0.005)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(10)


def latency(port: int, headers: dict[str, str]) -> float:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as c:
        for _ in range(20):
            c.get("/2017-09-01/users", headers=headers)
        samples = []
        for _ in range(REQUESTS):
            t = time.perf_counter()
            r = c.get("/2017-09-01/users", headers=headers)
            samples.append(time.perf_counter() - t)
            assert r.status_code == 200
    return statistics.median(samples)


def main() -> None:
    bare_cmd = [PY, "-m", "uvicorn", "bench.bare_app:app", "--port", "8191", "--log-level", "warning"]
    results: dict[str, list[float]] = {"bare": [], "ephemeral": [], "sqlite": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(RUNS):
            proc, t = start(bare_cmd, 8191); stop(proc); results["bare"].append(t)
            proc, t = start([PY, "-m", "callyard.cli.main", "serve", "--port", "8192", "--ephemeral",
                             "--log-level", "warning"], 8192); stop(proc); results["ephemeral"].append(t)
            data = os.path.join(tmp, f"d{i}")
            proc, t = start([PY, "-m", "callyard.cli.main", "serve", "--port", "8193", "--data", data,
                             "--log-level", "warning"], 8193); stop(proc); results["sqlite"].append(t)
        proc, _ = start(bare_cmd, 8191)
        bare_latency = latency(8191, {})
        stop(proc)
        proc, _ = start([PY, "-m", "callyard.cli.main", "serve", "--port", "8192", "--ephemeral",
                         "--log-level", "warning"], 8192)
        tok = httpx.post("http://127.0.0.1:8192/2017-09-01/token", data={
            "grant_type": "password", "username": "admin@acme.example", "password": "callyard"}).json()["access_token"]
        users_latency = latency(8192, {"Authorization": f"Bearer {tok}"})
        stop(proc)
    med = {k: statistics.median(v) for k, v in results.items()}
    lines = [
        "# Performance", "",
        "Figures measured by `make bench` (bench/run.py), which rewrites this file. Each figure is compared with",
        "a bare Starlette route served by the same uvicorn in the same run, so the ratio, not the absolute",
        "number, is what carries across machines.", "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}.", "",
        "| measure | callyard | bare Starlette | ratio |", "|---|---|---|---|",
        f"| start to ready, in-memory store (median of {RUNS}) | {med['ephemeral']*1000:.0f} ms | {med['bare']*1000:.0f} ms | {med['ephemeral']/med['bare']:.2f}× |",
        f"| start to ready, SQLite, first start with migrations and tenant load (median of {RUNS}) | {med['sqlite']*1000:.0f} ms | {med['bare']*1000:.0f} ms | {med['sqlite']/med['bare']:.2f}× |",
        f"| `GET /2017-09-01/users` (token verified, OData envelope), median of {REQUESTS} sequential requests | {users_latency*1000:.2f} ms | {bare_latency*1000:.2f} ms | {users_latency/bare_latency:.2f}× |",
        "", "Start to ready is measured from process start until `GET /_callyard/health` answers 200.",
        "Call-control throughput, event latency, concurrent calls and WebSocket subscribers are measured once",
        "the engine and the notification path exist.", ""]
    (ROOT / "docs" / "performance.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
