"""Parses every .eml in a directory with Python's email package and its .ics
part with Python icalendar; prints one JSON line per message:
{"file", "message_id", "to", "subject", "auto_submitted", "list_unsubscribe",
 "one_click", "parts", "uids"}. Exits 1 if any message fails to parse."""
import email
import email.policy
import json
import pathlib
import sys

import icalendar

ok = True
for path in sorted(pathlib.Path(sys.argv[1]).glob("*.eml")):
    try:
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        uids = []
        parts = []
        for part in msg.walk():
            parts.append(part.get_content_type())
            if part.get_content_type() == "text/calendar":
                cal = icalendar.Calendar.from_ical(part.get_content())
                uids += [str(e["UID"]) for e in cal.walk("VEVENT")]
        print(json.dumps({
            "file": path.name,
            "message_id": msg["Message-ID"],
            "to": msg["To"].addresses[0].addr_spec,
            "subject": str(msg["Subject"]),
            "auto_submitted": msg["Auto-Submitted"],
            "list_unsubscribe": msg["List-Unsubscribe"],
            "one_click": msg["List-Unsubscribe-Post"],
            "parts": parts,
            "uids": uids,
        }, ensure_ascii=False))
    except Exception as e:  # noqa: BLE001 - report every broken message
        ok = False
        print(json.dumps({"file": path.name, "error": repr(e)}))
sys.exit(0 if ok else 1)
