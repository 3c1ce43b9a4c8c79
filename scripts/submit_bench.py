"""Submission load on a controller's HTTP API: N submissions from C concurrent clients, each
with its own idempotency key, then a check that every one is there exactly once.

    python3 scripts/submit_bench.py HTTP_ADDR ADMIN_TOKEN REF DIST [TOTAL] [CLIENTS]

With VMAFX_CA set (the controller's tls/ca.pem), it speaks HTTPS checked against that CA, as
a client of a default (TLS) controller does; without it, plaintext HTTP.

A client retries a submission that got 429 (backpressure), 503 or a broken connection,
with the same key, as a careful client would. Prints JSON: submissions, clients, wall time,
rate, latency percentiles of acknowledged submissions (ms), retries, and the jobs counted
on the controller afterwards (with duplicates, which must be 0).
"""

import http.client
import json
import os
import ssl
import statistics
import sys
import threading
import time

addr, token, ref, dist = sys.argv[1:5]
total = int(sys.argv[5]) if len(sys.argv) > 5 else 10_000
clients = int(sys.argv[6]) if len(sys.argv) > 6 else 50
host, port = addr.rsplit(":", 1)
ca = os.environ.get("VMAFX_CA")
tls = ssl.create_default_context(cafile=ca) if ca else None


def connect():
    if tls:
        return http.client.HTTPSConnection(host, int(port), timeout=60, context=tls)
    return http.client.HTTPConnection(host, int(port), timeout=60)

headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

latencies, retries, lock = [], [0], threading.Lock()


def client(index):
    conn = connect()
    for n in range(index, total, clients):
        body = json.dumps({"score": {"reference": ref, "distorted": dist}, "idempotency_key": f"bench-{n}"})
        while True:
            started = time.perf_counter()
            try:
                conn.request("POST", "/v1/jobs", body, headers)
                resp = conn.getresponse()
                resp.read()
            except (OSError, http.client.HTTPException):
                conn = connect()
                with lock:
                    retries[0] += 1
                continue
            if resp.status in (200, 201):
                with lock:
                    latencies.append(time.perf_counter() - started)
                break
            if resp.status in (429, 503):
                with lock:
                    retries[0] += 1
                time.sleep(float(resp.getheader("Retry-After") or 1))
                continue
            raise SystemExit(f"submission {n}: HTTP {resp.status}")


started = time.perf_counter()
threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
wall = time.perf_counter() - started

# Count what the controller holds, page by page.
conn = connect()
seen, token_next = {}, ""
while True:
    conn.request("GET", f"/v1/jobs?page_size=1000&page_token={token_next}", headers=headers)
    page = json.loads(conn.getresponse().read())
    for job in page["jobs"]:
        seen[job["id"]] = seen.get(job["id"], 0) + 1
    token_next = page.get("next_page_token") or ""
    if not token_next:
        break

q = statistics.quantiles(latencies, n=100, method="inclusive")
print(json.dumps({
    "submissions": total,
    "clients": clients,
    "acknowledged": len(latencies),
    "wall_s": wall,
    "per_s": len(latencies) / wall,
    "p50_ms": q[49] * 1000,
    "p99_ms": q[98] * 1000,
    "max_ms": max(latencies) * 1000,
    "retries": retries[0],
    "jobs_on_controller": len(seen),
    "duplicates": sum(c - 1 for c in seen.values()),
}))
