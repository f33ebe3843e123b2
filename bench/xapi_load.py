"""xAPI ingest load generator (not a test): POSTs statements shaped like
../shared/bench/sample-statements.json, each with a fresh UUID, to <base>/statements over real
HTTP with Basic auth, from N concurrent client processes for a fixed duration, and prints
statements/s, request latency percentiles, and the machine's busy CPU per statement over the
run (bench/machine.py: the server's, the database's and these clients' together).

    .venv/bin/python bench/xapi_load.py --base http://127.0.0.1:8000/xapi \
        --user KEY_ID --password SECRET --batch 100 --concurrency 4 --duration 20

With --actors FILE (from xapi_fixture.py --learners N --actors FILE) each statement names one
of N registered learners of the platform, as real reporting does, instead of the sample's
actor (an account the LRS does not know, stored without a person).
"""

from __future__ import annotations

import argparse
import base64
import json
import multiprocessing
import socket
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.machine import busy_seconds

SAMPLE = (
    Path(__file__).resolve().parent.parent.parent / "shared" / "bench" / "sample-statements.json"
)


_ID_SLOT = "00000000-0000-4000-8000-000000000000"
_ACTOR_SLOT = "actor-slot"
_ACTOR_SLOT_JSON = json.dumps(_ACTOR_SLOT).encode()  # as it stands in a serialised template


def _pieces(sample: str, actors: bool) -> list[tuple[bytes, bytes]]:
    """Each template serialised once, split around its id: a request body is then joined from
    bytes, so the client spends a few microseconds per statement and leaves the two shared
    cores to the server and the database. With `actors`, the actor is a slot to fill."""
    pieces = []
    for template in json.loads(Path(sample).read_text(encoding="utf-8")):
        template["id"] = _ID_SLOT
        if actors:
            template["actor"] = _ACTOR_SLOT
        before, after = (
            json.dumps(template, separators=(",", ":")).encode().split(_ID_SLOT.encode())
        )
        pieces.append((before, after))
    return pieces


class _Connection:
    """HTTP/1.1 keep-alive over a plain socket: one sendall per request, the response read up
    to its Content-Length. http.client costs several times more CPU per request."""

    def __init__(self, host: str, port: int) -> None:
        self.address = (host, port)
        self.sock: socket.socket | None = None
        self.buffer = b""

    def round_trip(self, request: bytes) -> int:
        if self.sock is None:
            self.sock = socket.create_connection(self.address, timeout=60)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buffer = b""
        self.sock.sendall(request)
        while b"\r\n\r\n" not in self.buffer:
            self._receive()
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        status = int(head[9:12])
        headers = {}
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip().lower()
        if headers.get(b"transfer-encoding") == b"chunked":
            self.buffer = rest
            while True:
                while b"\r\n" not in self.buffer:
                    self._receive()
                size_line, _, rest = self.buffer.partition(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                while len(rest) < size + 2:
                    self.buffer = rest
                    self._receive()
                    rest = self.buffer
                self.buffer = rest[size + 2 :]
                if size == 0:
                    break
        else:
            length = int(headers.get(b"content-length", b"0"))
            while len(rest) < length:
                self.buffer = rest
                self._receive()
                rest = self.buffer
            self.buffer = rest[length:]
        if headers.get(b"connection") == b"close":
            self.close()
        return status

    def _receive(self) -> None:
        assert self.sock is not None
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buffer += chunk

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = None


def _client(args: argparse.Namespace, worker: int, queue: Any) -> None:
    actors = (
        [line.strip().encode() for line in args.actors.read_text(encoding="utf-8").splitlines()]
        if args.actors
        else []
    )
    pieces = _pieces(args.sample, bool(actors))
    parts = urlsplit(args.base)
    if parts.scheme != "http":
        raise SystemExit("--base must be an http:// address (the client speaks plain HTTP/1.1)")
    host = parts.hostname or "127.0.0.1"
    connection = _Connection(host, parts.port or 80)
    path = parts.path.rstrip("/") + "/statements"
    token = base64.b64encode(f"{args.user}:{args.password}".encode()).decode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Basic {token}\r\n"
        "X-Experience-API-Version: 1.0.3\r\nContent-Type: application/json\r\n"
        "Content-Length: "
    ).encode()
    latencies: list[float] = []
    sent = errors = 0
    index = worker
    deadline = time.perf_counter() + args.duration
    while time.perf_counter() < deadline:
        statements = []
        for _ in range(args.batch):
            before, after = pieces[index % len(pieces)]
            statement = before + str(uuid.uuid4()).encode() + after
            if actors:
                statement = statement.replace(_ACTOR_SLOT_JSON, actors[index % len(actors)], 1)
            statements.append(statement)
            index += 1
        body = b"[" + b",".join(statements) + b"]" if args.batch > 1 else statements[0]
        request = head + str(len(body)).encode() + b"\r\n\r\n" + body
        started = time.perf_counter()
        try:
            ok = connection.round_trip(request) == 200
        except (OSError, ValueError):
            ok = False
            connection.close()
        latencies.append(time.perf_counter() - started)
        if ok:
            sent += args.batch
        else:
            errors += 1
    queue.put((sent, errors, latencies))


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000/xapi")
    parser.add_argument("--user", required=True, help="platform key id")
    parser.add_argument("--password", required=True, help="platform secret")
    parser.add_argument("--batch", type=int, default=100, help="statements per request")
    parser.add_argument("--concurrency", type=int, default=4, help="client processes")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds")
    parser.add_argument("--sample", default=str(SAMPLE))
    parser.add_argument(
        "--actors",
        type=Path,
        help="JSON lines of actors (xapi_fixture.py --actors): each statement names one of "
        "them instead of the sample's own actor",
    )
    args = parser.parse_args()

    queue: Any = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=_client, args=(args, n, queue))
        for n in range(args.concurrency)
    ]
    busy = busy_seconds()
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    results = [queue.get() for _ in workers]
    elapsed = time.perf_counter() - started
    busy = busy_seconds() - busy
    for worker in workers:
        worker.join()
    sent = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    latencies = [value for r in results for value in r[2]]
    print(
        json.dumps(
            {
                "batch": args.batch,
                "concurrency": args.concurrency,
                "seconds": round(elapsed, 1),
                "statements": sent,
                "requests": len(latencies),
                "errors": errors,
                "statements_per_s": round(sent / elapsed, 1),
                "p50_ms": round(_percentile(latencies, 0.50) * 1000, 1),
                "p99_ms": round(_percentile(latencies, 0.99) * 1000, 1),
                "mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else 0,
                "machine_cpu_us_per_statement": round(busy / sent * 1e6, 1) if sent else None,
            }
        )
    )


if __name__ == "__main__":
    main()
