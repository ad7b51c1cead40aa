"""Checks mechcal.service's system-call filter against what mechcal really
calls: runs `mechcal serve` under strace (following its threads and its
`git` children) through a day's work — every route, conditional requests,
/metrics, a reminder pass to a Maildir, an edit, a broken file and its fix,
a staff alert, a git push followed, SIGHUP, SIGTERM — and compares the
system calls seen with the unit's `SystemCallFilter=` sets, expanded by
`systemd-analyze syscall-filter`. Fails when a call seen is outside the
allowed set (it would fail with EPERM under the unit).

Usage: python3 systemd/syscalls.py MECHCAL_BIN    (needs strace, git, systemd-analyze)
"""
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

top = pathlib.Path(__file__).resolve().parent.parent
binary = sys.argv[1]
unit = (top / "systemd/mechcal.service").read_text()


def expand(name, seen=None):
    """A filter set's system calls, nested sets expanded."""
    seen = seen if seen is not None else set()
    if name in seen:
        return set()
    seen.add(name)
    out = subprocess.run(
        ["systemd-analyze", "syscall-filter", name], capture_output=True, text=True, check=True
    ).stdout
    calls = set()
    for line in out.splitlines()[1:]:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        calls |= expand(line, seen) if line.startswith("@") else {line}
    return calls


allowed, denied = set(), set()
for line in unit.splitlines():
    if line.startswith("SystemCallFilter="):
        value = line.split("=", 1)[1]
        target = allowed
        if value.startswith("~"):
            target, value = denied, value[1:]
        for name in value.split():
            target |= expand(name) if name.startswith("@") else {name}
permitted = allowed - denied

tmp = pathlib.Path(tempfile.mkdtemp())
proc = None
# The service runs as its own user, never as root (SQLite, for one, calls
# fchown only as root): run as `nobody` when started as root.
as_user = []
if os.geteuid() == 0:
    as_user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    os.chown(tmp, 65534, 65534)
env = dict(os.environ, HOME=str(tmp), GIT_AUTHOR_NAME="Staff", GIT_AUTHOR_EMAIL="staff@example.org",
           GIT_COMMITTER_NAME="Staff", GIT_COMMITTER_EMAIL="staff@example.org")


def git(*args, cwd=tmp):
    subprocess.run([*as_user, "git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def chown_all(path):
    if as_user:
        subprocess.run(["chown", "-R", "65534:65534", str(path)], check=True)


try:
    git("init", "--quiet", "--bare", "--initial-branch=main", "origin.git")
    git("clone", "--quiet", "origin.git", "staff")
    shutil.copytree(top / "deadlines", tmp / "staff/deadlines")
    chown_all(tmp / "staff")
    git("checkout", "--quiet", "-b", "main", cwd=tmp / "staff")
    git("add", ".", cwd=tmp / "staff")
    git("commit", "--quiet", "-m", "sample", cwd=tmp / "staff")
    git("push", "--quiet", "origin", "main", cwd=tmp / "staff")
    git("clone", "--quiet", "origin.git", "checkout")
    subs = tmp / "subscribers.toml"
    shutil.copy(top / "config/subscribers.example.toml", subs)
    subs.chmod(0o600)
    chown_all(subs)
    shutil.copytree(top / "config/keys", tmp / "keys")
    chown_all(tmp / "keys")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = tmp / "mechcal.toml"
    config.write_text(
        f"""[calendar]
domain = "calendar.example.org"
[data]
deadlines = "checkout/deadlines"
[data.git]
interval = 1
[state]
path = "state.sqlite"
[server]
listen = "127.0.0.1:{port}"
[reminders]
subscribers = "subscribers.toml"
secret_file = "secret"
[mail]
maildir = "maildir"
[alerts]
staff = ["ops@example.org"]
"""
    )
    chown_all(config)
    # A copy the service user can run wherever the checkout lies.
    shutil.copy(binary, tmp / "mechcal")
    binary = str(tmp / "mechcal")
    trace = tmp / "trace"
    proc = subprocess.Popen(
        ["strace", "-f", "-qq", "-o", str(trace), *as_user, binary, "--config", str(config), "serve"],
        env=dict(os.environ, NOTIFY_SOCKET=str(tmp / "notify.sock"), WATCHDOG_USEC="1000000"),
        stderr=open(tmp / "serve.log", "w"),
    )
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp / "notify.sock"))
    base = f"http://127.0.0.1:{port}"

    def get(path, headers=None):
        try:
            with urllib.request.urlopen(urllib.request.Request(base + path, headers=headers or {})) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    for _ in range(200):
        try:
            get("/healthz")
            break
        except OSError:
            time.sleep(0.1)

    def health():
        return json.loads(get("/healthz")[2])

    def wait(what, ok, limit=10):
        end = time.time() + limit
        while not ok():
            if time.time() > end:
                sys.exit(f"{what}: not within {limit} s: {health()}\n" + (tmp / "serve.log").read_text())
            time.sleep(0.1)

    _, headers, _ = get("/calendar.ics")
    get("/calendar.ics", {"If-None-Match": headers["ETag"], "Accept-Encoding": "gzip"})
    for path in ["/", "/?lang=ru", "/topics/women.ics", "/mechanisms/cedaw.ics",
                 "/deadlines.json", "/deadlines/example-cedaw-alternative-report-2027",
                 "/deadlines/example-cedaw-alternative-report-2027.ics", "/nope", "/metrics",
                 "/unsubscribe?token=x"]:
        get(path)
    # A push, followed; a broken push (an alert), then its fix.
    data = tmp / "staff/deadlines/examples/2026-2027.toml"
    good = data.read_text()
    for text, message in [(good.replace("Example: hate crime data", "Edited"), "edit"),
                          (good.replace('mechanism = "cedaw"', 'mechanism = "cedw"', 1), "break"),
                          (good, "fix")]:
        data.write_text(text)
        git("commit", "--quiet", "-am", message, cwd=tmp / "staff")
        git("push", "--quiet", "origin", "main", cwd=tmp / "staff")
        if message == "break":
            wait("degraded", lambda: health()["status"] == "degraded")
        else:
            wait(message, lambda: health()["status"] == "ok" and
                 ("Edited" in get("/deadlines.json")[2].decode()) == (message == "edit"))
    # Signals go to mechcal, strace's child.
    pid = int((pathlib.Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split() or ["0"])[0])
    if not pid:
        sys.exit("cannot find mechcal under strace")
    os.kill(pid, signal.SIGHUP)
    time.sleep(1.5)
    os.kill(pid, signal.SIGTERM)
    try:
        code = proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        sys.exit("serve did not stop within 20 s of SIGTERM\n" + (tmp / "serve.log").read_text()[-3000:])
    if code != 0:
        sys.exit(f"serve exited {code}\n" + (tmp / "serve.log").read_text())
    if not list((tmp / "maildir/new").iterdir()):
        sys.exit("no mail was written: the scenario did not run reminders and alerts")

    # Each process's program at each line (a successful execve changes it);
    # setpriv's own calls, before it becomes mechcal, are not mechcal's.
    seen, programs, culprits = set(), {}, {}
    call = re.compile(r"^(\d+)\s+(?:<\.\.\. )?([a-z_0-9]+)[( ]")
    execve = re.compile(r'^(\d+)\s+execve\("([^"]+)".* = 0$')
    for line in trace.read_text(errors="replace").splitlines():
        m = execve.match(line)
        if m:
            programs[m.group(1)] = m.group(2)
        m = call.match(line)
        if not m or m.group(2) in ("exit", "resumed"):
            continue
        pid, name = m.groups()
        program = programs.get(pid, "mechcal (a thread)")
        if program.endswith("/setpriv"):
            continue
        seen.add(name)
        culprits.setdefault(name, set()).add(f"{program}: {line[len(pid):].strip()[:120]}")
    outside = sorted(seen - permitted)
    print(f"system calls seen: {len(seen)}; allowed by the unit: {len(permitted)}")
    print("seen:", " ".join(sorted(seen)))
    if outside:
        for name in outside:
            print(f"{name}:", *sorted(culprits.get(name, []))[:5], sep="\n  ")
        sys.exit("outside the unit's SystemCallFilter (EPERM under systemd): " + " ".join(outside))
    print("ok: every system call seen is allowed")
finally:
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.wait()
    shutil.rmtree(tmp, ignore_errors=True)
