"""Posts TOTAL sign-ups of distinct addresses to URL/subscribe with form
TOKEN, over CONNS keep-alive connections spread across 2 processes, and
prints the wall time from the first request to the last answer. Every
answer must be 200. Addresses start with LABEL (default `bench`), so that
runs against one database can use new ones.
Usage: signup_client.py URL TOKEN TOTAL CONNS [LABEL]"""
import http.client
import multiprocessing
import sys
import threading
import time
import urllib.parse

url, token, total, conns = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
label = sys.argv[5] if len(sys.argv) > 5 else "bench"
host, port = urllib.parse.urlsplit(url).hostname, urllib.parse.urlsplit(url).port


def connection(proc, k, n, errors):
    c = http.client.HTTPConnection(host, port)
    for i in range(n):
        body = urllib.parse.urlencode([
            ("email", f"{label}-{proc}-{k}-{i}@example.org"), ("topic", "upr"), ("topic", "women"),
            ("lang", "en"), ("days", "7-1"), ("mode", "digest"), ("token", token)])
        c.request("POST", "/subscribe", body, {"Content-Type": "application/x-www-form-urlencoded"})
        r = c.getresponse()
        r.read()
        if r.status != 200:
            errors.append(r.status)


def process(proc, per_conn, threads, start, q):
    errors = []
    start.wait()
    ts = [threading.Thread(target=connection, args=(proc, k, per_conn, errors)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    q.put(errors)


if __name__ == "__main__":
    procs = 2
    threads = conns // procs
    per_conn = total // conns
    start = multiprocessing.Event()
    q = multiprocessing.Queue()
    ps = [multiprocessing.Process(target=process, args=(p, per_conn, threads, start, q)) for p in range(procs)]
    for p in ps:
        p.start()
    time.sleep(0.5)
    t0 = time.time()
    start.set()
    errors = [e for _ in ps for e in q.get()]
    for p in ps:
        p.join()
    secs = time.time() - t0
    n = per_conn * conns
    print(f"{n} {secs:.3f} {len(errors)}")
    if errors:
        sys.exit(f"{len(errors)} answers were not 200: {sorted(set(errors))}")
