"""Times sign-up posts of five kinds of address, interleaved at random on
one keep-alive connection, and prints each kind's median answer time and
how far the slowest median is above the fastest. The kinds: a new address
each time, one pending sign-up, one confirmed sign-up, a subscribers-file
person, and a subscribers-file person with an OpenPGP key.

Usage: signup_timing.py URL MAILDIR ROUNDS PAUSE_MS
"""
import email
import email.policy
import http.client
import os
import random
import re
import statistics
import sys
import time
import urllib.parse

url, maildir, rounds, pause = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]) / 1000
parts = urllib.parse.urlsplit(url)
origin = f"{parts.scheme}://{parts.netloc}"
conn = http.client.HTTPConnection(parts.hostname, parts.port)


def request(method, path, body=None):
    headers = {"Origin": origin}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    t = time.perf_counter()
    conn.request(method, path, body, headers)
    r = conn.getresponse()
    data = r.read()
    return r.status, data, time.perf_counter() - t


status, page, _ = request("GET", "/subscribe")
token = re.search(rb'name="token" value="([^"]*)"', page).group(1).decode()


def post(address):
    body = urllib.parse.urlencode([("email", address), ("topic", "women"), ("lang", "en"),
                                   ("days", "7-1"), ("mode", "digest"), ("token", token)])
    status, data, secs = request("POST", "/subscribe", body)
    if status != 200:
        sys.exit(f"{address}: {status} {data[:200]!r}")
    return data, secs


def confirm_link(address):
    d = os.path.join(maildir, "new")
    for _ in range(100):
        for name in os.listdir(d) if os.path.isdir(d) else []:
            with open(os.path.join(d, name), "rb") as f:
                m = email.message_from_binary_file(f, policy=email.policy.default)
            if m["To"] and m["To"].addresses[0].addr_spec == address:
                text = m.get_body(("plain",)).get_content()
                found = re.search(r"(/subscribe/confirm\?token=\S+)", text)
                if found:
                    return found.group(1)
        time.sleep(0.1)
    sys.exit(f"no confirmation mail to {address}")


# The standing addresses: one pending, one confirmed.
post("pending@example.org")
post("confirmed@example.org")
status, _, _ = request("POST", confirm_link("confirmed@example.org"), "")
if status != 200:
    sys.exit(f"confirming: {status}")

kinds = {
    "new": None,
    "pending": "pending@example.org",
    "confirmed": "confirmed@example.org",
    "file": "lawyer@example.org",
    "openpgp": "encrypted@example.org",
}
order = [k for k in kinds for _ in range(rounds)]
random.seed(26)
random.shuffle(order)
# Warm-up: every kind a few times, not counted.
for k in list(kinds) * 5:
    post(kinds[k] or f"warm-{random.getrandbits(64):x}@example.org")
times = {k: [] for k in kinds}
bodies = {k: set() for k in kinds}
for i, k in enumerate(order):
    time.sleep(pause)
    data, secs = post(kinds[k] or f"new-{i}@example.org")
    times[k].append(secs)
    bodies[k].add(data)
medians = {k: statistics.median(v) * 1000 for k, v in times.items()}
for k, m in medians.items():
    q = statistics.quantiles(times[k], n=10)
    print(f"{k:10} median {m:.3f} ms  (p10 {q[0] * 1000:.3f}, p90 {q[-1] * 1000:.3f}; {len(times[k])} posts)")
spread = max(medians.values()) / min(medians.values()) - 1
print(f"slowest median / fastest: {1 + spread:.3f} ({spread * 100:.1f} % apart; goal: under 5 %)")
# The noise floor: the same spread with the kinds' labels shuffled among
# all the times measured (what the spread is when kind makes no difference).
pooled = [t for v in times.values() for t in v]
floor = []
for _ in range(200):
    random.shuffle(pooled)
    groups = [pooled[i * rounds:(i + 1) * rounds] for i in range(len(kinds))]
    m = [statistics.median(g) for g in groups]
    floor.append(max(m) / min(m) - 1)
floor.sort()
print(f"noise floor (labels shuffled, 200 draws): median {statistics.median(floor) * 100:.1f} %, "
      f"95th percentile {floor[189] * 100:.1f} %")
if len({b for s in bodies.values() for b in s}) != 1:
    print("the answers' bodies differ between kinds")
    sys.exit(1)
print("every answer's body is the same")
