"""A small closed-loop HTTP load client for benchmarks against loopback only.

Each of `concurrency` threads keeps one keep-alive connection and sends requests from a
shared iterator until it is exhausted or `seconds` pass (bounded in count and time)."""

from __future__ import annotations

import http.client
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Request:
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Result:
    latencies_ms: list[float]
    statuses: dict[int, int]
    errors: int
    elapsed_s: float

    @property
    def count(self) -> int:
        return len(self.latencies_ms)

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        data = sorted(self.latencies_ms)
        index = min(len(data) - 1, max(0, round(p / 100 * len(data)) - 1))
        return data[index]

    def lines(self, prefix: str) -> list[str]:
        ok = sum(n for s, n in self.statuses.items() if 200 <= s < 400)
        return [
            f"{prefix}.requests {self.count}",
            f"{prefix}.ok {ok}",
            f"{prefix}.errors {self.errors + self.count - ok}",
            f"{prefix}.throughput_rps {self.count / self.elapsed_s:.1f}",
            f"{prefix}.p50_ms {self.percentile(50):.1f}",
            f"{prefix}.p95_ms {self.percentile(95):.1f}",
            f"{prefix}.p99_ms {self.percentile(99):.1f}",
            f"{prefix}.mean_ms {statistics.fmean(self.latencies_ms):.1f}",
        ]


def run(
    base_url: str,
    requests: Iterator[Request],
    *,
    concurrency: int = 16,
    seconds: float = 60.0,
    on_response: Callable[[Request, int, bytes], None] | None = None,
) -> Result:
    parts = urlsplit(base_url)
    host = parts.hostname or "127.0.0.1"
    if host not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit("benchmarks target loopback only")
    port = parts.port or 80
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    deadline = time.monotonic() + seconds

    def next_request() -> Request | None:
        with lock:
            return next(requests, None)

    def worker() -> None:
        nonlocal errors
        conn = http.client.HTTPConnection(host, port, timeout=30)
        while time.monotonic() < deadline:
            req = next_request()
            if req is None:
                break
            started = time.perf_counter()
            try:
                conn.request(req.method, req.path, body=req.body, headers=req.headers)
                response = conn.getresponse()
                payload = response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                with lock:
                    errors += 1
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=30)
                continue
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1
            if on_response is not None:
                on_response(req, status, payload)
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Result(latencies, statuses, errors, time.perf_counter() - started)
