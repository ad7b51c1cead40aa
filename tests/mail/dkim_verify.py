"""Verifies the DKIM signature of every message in a directory with Python
dkimpy, answering its DNS query for `selector._domainkey.domain` with the
record `mechcal dkim-record` printed (no network). Prints one JSON line per
message: {"file", "subject", "ok", "d", "s", "a", "h"}.

usage: dkim_verify.py DIR RECORD"""
import email
import email.policy
import json
import pathlib
import sys

import dkim

directory, record = pathlib.Path(sys.argv[1]), sys.argv[2].encode()
asked = []


def dnsfunc(name, timeout=5):
    asked.append(name.decode() if isinstance(name, bytes) else name)
    return record


for path in sorted(p for p in directory.iterdir() if p.is_file()):
    raw = path.read_bytes()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    sig = msg.get("DKIM-Signature", "")
    tags = {}
    for part in str(sig).replace("\r\n", "").replace("\n", "").split(";"):
        if "=" in part:
            k, v = part.strip().split("=", 1)
            tags[k.strip()] = "".join(v.split())
    ok = bool(sig) and dkim.verify(raw, dnsfunc=dnsfunc)
    print(json.dumps({
        "file": path.name,
        "subject": str(msg["Subject"]),
        "ok": ok,
        "d": tags.get("d"), "s": tags.get("s"), "a": tags.get("a"), "h": tags.get("h", ""),
        "asked": asked[-1] if asked else None,
    }, ensure_ascii=False))
