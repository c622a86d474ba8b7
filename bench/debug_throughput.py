"""Log throughput: `backbone debug` against GoAccess on the same 5-million-line access log.

Generates (once, cached in bench/.work/) a combined access log with nginx's $request_time,
12 hours of traffic with two injected incidents:

- a latency spike, 06:00-06:10: a third of all requests take 1.5-3.5 s;
- an error burst, 08:30-08:35: a quarter of all requests answer 502 or 503.

Then runs, in the same run and on the same file, each as a subprocess timed with the wall
clock (start-up included):

- backbone: `debug LOG --format json` (ingestion into DuckDB, route percentiles
  p50/p95/p99, time buckets, spike detection, causes);
- GoAccess: `goaccess LOG --log-format ... -o report.json` (its JSON report; it computes
  no percentiles).

It prints lines per second for each, peak memory (max RSS), and whether backbone's report
found the injected spike and burst. Targets: backbone faster than GoAccess, spike and
burst found. Exit status: 0 targets met, 1 a target missed, 2 the benchmark could not run.

GoAccess is a Debian package used only here: the script installs it with apt-get when it
runs as root and it is missing, and otherwise says how to.

    .venv/bin/python bench/debug_throughput.py                 # 5,000,000 lines
    .venv/bin/python bench/debug_throughput.py --lines 500000  # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

WORKDIR = Path(__file__).resolve().parent / ".work"
START = datetime(2024, 3, 1, 0, 0, 0)
SPAN = timedelta(hours=12)
SPIKE = (START + timedelta(hours=6), START + timedelta(hours=6, minutes=10))
BURST = (START + timedelta(hours=8, minutes=30), START + timedelta(hours=8, minutes=35))
GOACCESS_FORMAT = '%h %^[%d:%t %^] "%r" %s %b "%R" "%u" %T'
PATHS = (
    ("GET", "/api/products", 25), ("GET", "/api/products/{id}", 20), ("GET", "/api/orders/{id}", 12),
    ("POST", "/api/orders", 6), ("GET", "/api/users/{id}/cart", 10), ("GET", "/api/search?q=lamp", 8),
    ("GET", "/static/app.{hash}.js", 9), ("GET", "/health", 6), ("PUT", "/api/users/{id}", 4),
)
AGENTS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Version/17.4 Safari/605.1.15",
    "shop-mobile/3.2.1 (Android 14)", "kube-probe/1.29",
)


def generate(path: Path, lines: int, seed: int) -> None:
    rng = random.Random(seed)
    step = SPAN.total_seconds() / lines
    weights = [weight for _, _, weight in PATHS]
    choices = rng.choices(range(len(PATHS)), weights, k=65536)
    latencies = [rng.lognormvariate(-3.3, 0.6) for _ in range(65536)]
    ips = [f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}" for _ in range(4096)]
    spike = ((SPIKE[0] - START).total_seconds(), (SPIKE[1] - START).total_seconds())
    burst = ((BURST[0] - START).total_seconds(), (BURST[1] - START).total_seconds())
    stamp_cache: dict[int, str] = {}
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        chunk: list[str] = []
        for index in range(lines):
            offset = index * step
            second = int(offset)
            stamp = stamp_cache.get(second)
            if stamp is None:
                stamp_cache.clear()
                stamp = stamp_cache[second] = (START + timedelta(seconds=second)).strftime("%d/%b/%Y:%H:%M:%S +0000")
            method, template, _ = PATHS[choices[index & 65535]]
            request_path = template.replace("{id}", str(rng.randint(1, 200_000))) if "{" in template else template
            if "{hash}" in template:
                request_path = template.replace("{hash}", "3f9a2c41d8e07b65")
            status = 200 if method == "GET" else 201
            latency = latencies[(index * 7919) & 65535]
            if spike[0] <= offset < spike[1] and index % 3 == 0:
                latency = 1.5 + rng.random() * 2.0
            if burst[0] <= offset < burst[1] and index % 4 == 0:
                status = 502 if index % 8 == 0 else 503
            elif index % 97 == 0:
                status = 404
            chunk.append(f'{ips[index & 4095]} - - [{stamp}] "{method} {request_path} HTTP/1.1" {status} '
                         f'{(index * 131) % 9000 + 120} "https://shop.example/" "{AGENTS[index & 3]}" {latency:.3f}\n')
            if len(chunk) >= 50_000:
                out.write("".join(chunk))
                chunk.clear()
        out.write("".join(chunk))
    tmp.replace(path)


@dataclass
class Run:
    name: str
    seconds: float
    max_rss_mb: float
    returncode: int
    stderr: str


def run(name: str, command: list[str], stdout_path: Path | None = None) -> Run:
    started = time.perf_counter()
    with (stdout_path.open("wb") if stdout_path else open(os.devnull, "wb")) as stdout:
        process = subprocess.Popen(command, stdout=stdout, stderr=subprocess.PIPE)
        assert process.stderr is not None
        stderr = process.stderr.read()
        _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return Run(name, elapsed, usage.ru_maxrss / 1024, process.returncode, stderr.decode("utf-8", "replace")[-2000:])


def ensure_goaccess() -> str | None:
    found = shutil.which("goaccess")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("GoAccess is missing: installing the Debian package (apt-get install goaccess)...")
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "goaccess"], check=False)
        return shutil.which("goaccess")
    print("GoAccess is missing: install it with `sudo apt-get install goaccess` and run again.")
    return None


def overlaps(item: dict[str, object], window: tuple[datetime, datetime]) -> bool:
    start = datetime.fromisoformat(str(item["start"]).rstrip("Z"))
    end = datetime.fromisoformat(str(item["end"]).rstrip("Z"))
    return start < window[1] and window[0] < end


def main() -> int:
    parser = argparse.ArgumentParser(description="backbone debug vs GoAccess on one access log")
    parser.add_argument("--lines", type=int, default=5_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, default=WORKDIR)
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    parser.add_argument("--memory-limit", default="192MB", help="backbone's DuckDB memory limit (default 192MB, backbone's)")
    arguments = parser.parse_args()

    goaccess = ensure_goaccess()
    if goaccess is None:
        return 2
    arguments.workdir.mkdir(parents=True, exist_ok=True)
    log = arguments.workdir / f"access-{arguments.lines}-{arguments.seed}.log"
    if not log.exists():
        print(f"Generating {arguments.lines:,} lines into {log} ...", flush=True)
        started = time.perf_counter()
        generate(log, arguments.lines, arguments.seed)
        print(f"  done in {time.perf_counter() - started:.1f} s ({log.stat().st_size / 1e6:,.0f} MB)")
    else:
        print(f"Using {log} ({log.stat().st_size / 1e6:,.0f} MB)")

    backbone_json = arguments.workdir / "backbone-report.json"
    backbone = run("backbone debug", [
        sys.executable, "-c",
        "import sys; from backbone.logs.command import debug; "
        "sys.exit(debug.main(sys.argv[1:], standalone_mode=False))",
        str(log), "--format", "json", "--exit-zero", "--output", str(backbone_json),
        "--memory-limit", arguments.memory_limit,
    ])
    goaccess_json = arguments.workdir / "goaccess-report.json"
    goaccess_run = run("GoAccess", [
        goaccess, str(log), "--log-format", GOACCESS_FORMAT, "--date-format", "%d/%b/%Y", "--time-format", "%T",
        "--no-global-config", "--no-progress", "-o", str(goaccess_json),
    ])
    for item in (backbone, goaccess_run):
        if item.returncode != 0:
            print(f"{item.name} failed with exit code {item.returncode}:\n{item.stderr}")
            return 2

    report = json.loads(backbone_json.read_text(encoding="utf-8"))
    spikes = report["spikes"]
    spike_found = any(s["metric"] == "latency_p95" and overlaps(s, SPIKE) for s in spikes)
    burst_found = any(s["metric"] == "error_rate" and overlaps(s, BURST) for s in spikes)
    parsed = report["lines"]["parsed"]
    goaccess_report = json.loads(goaccess_json.read_text(encoding="utf-8"))
    goaccess_valid = int(goaccess_report.get("general", {}).get("valid_requests", 0))

    rows = [(backbone, parsed), (goaccess_run, goaccess_valid)]
    print()
    print(f"backbone's DuckDB memory limit: {arguments.memory_limit}")
    print(f"{'tool':<16}{'seconds':>10}{'lines/s':>14}{'max RSS':>12}{'lines parsed':>16}")
    for item, lines in rows:
        print(f"{item.name:<16}{item.seconds:>10.2f}{arguments.lines / item.seconds:>14,.0f}"
              f"{item.max_rss_mb:>9,.0f} MB{lines:>16,}")
    ratio = goaccess_run.seconds / backbone.seconds
    print(f"\nbackbone is {ratio:.2f}x GoAccess's throughput, and computed p50/p95/p99 per route "
          f"({len(report['routes'])} routes).")
    print(f"Injected latency spike {SPIKE[0]:%H:%M}-{SPIKE[1]:%H:%M} found: {'yes' if spike_found else 'NO'}")
    print(f"Injected error burst   {BURST[0]:%H:%M}-{BURST[1]:%H:%M} found: {'yes' if burst_found else 'NO'}")
    for spike in spikes:
        print(f"  spike {spike['metric']:<12} {spike['start']} .. {spike['end']}  {', '.join(spike['routes'])}")
    faster = backbone.seconds < goaccess_run.seconds
    for label, ok in (("faster than GoAccess", faster), ("spike found", spike_found), ("burst found", burst_found)):
        print(f"{'PASS' if ok else 'FAIL'}  {label}")
    if arguments.json:
        arguments.json.write_text(json.dumps({
            "lines": arguments.lines, "cpus": os.cpu_count(), "memory_limit": arguments.memory_limit,
            "backbone": {"seconds": backbone.seconds, "lines_per_second": arguments.lines / backbone.seconds,
                         "max_rss_mb": backbone.max_rss_mb, "parsed": parsed},
            "goaccess": {"seconds": goaccess_run.seconds, "lines_per_second": arguments.lines / goaccess_run.seconds,
                         "max_rss_mb": goaccess_run.max_rss_mb, "valid_requests": goaccess_valid},
            "spike_found": spike_found, "burst_found": burst_found,
        }, indent=2), encoding="utf-8")
    return 0 if faster and spike_found and burst_found else 1


if __name__ == "__main__":
    sys.exit(main())
