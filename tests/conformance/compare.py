"""Checks that ical.js, Python icalendar and vobject read the same feed the
same way, and that what they read is what mechcal meant (its deadlines.json).

Usage: compare.py FEED.ics DEADLINES.json ICALJS.json PYTHON.json
Exits 1 with a list of every disagreement."""
import datetime as dt
import json
import sys

FIELDS = ["uid", "summary", "description", "all_day", "start", "end", "status", "categories", "sequence", "alarms"]


def end_of(start, all_day):
    """An all-day event ends the next day; a timed one fifteen minutes after
    it starts (RFC 5545 3.6.1 wants DTEND later than DTSTART; the start is
    the deadline)."""
    if all_day:
        return (dt.date.fromisoformat(start) + dt.timedelta(days=1)).isoformat()
    at = dt.datetime.strptime(start, "%Y-%m-%dT%H:%M:%SZ") + dt.timedelta(minutes=15)
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def main():
    feed_path, json_path, icaljs_path, python_path = sys.argv[1:5]
    expected = json.load(open(json_path, encoding="utf-8"))
    parsed = {"ical.js": json.load(open(icaljs_path, encoding="utf-8"))}
    parsed.update(json.load(open(python_path, encoding="utf-8")))
    problems = []

    # Ground truth from mechcal's own JSON.
    truth = {}
    for d in expected["deadlines"]:
        # An open call is in a feed as an all-day event on the day it opens.
        is_open = d["due"]["kind"] == "open"
        all_day = d["due"]["kind"] == "date" or is_open
        if is_open:
            start = d["opens"]["date"]
        else:
            start = d["due"]["date"] if all_day else d["due"]["instant"]
        truth[d["uid"]] = {
            "uid": d["uid"],
            "summary": d["summary"],
            "all_day": all_day,
            "start": start,
            "end": end_of(start, all_day),
            "status": d["status"].upper(),
            "categories": [d["mechanism"]["name"]] + [t["name"] for t in d["topics"]],
            "sequence": d["sequence"],
        }

    for name, cal in parsed.items():
        events = {e["uid"]: e for e in cal["events"]}
        if len(events) != len(cal["events"]):
            problems.append(f"{name}: duplicate UIDs: {[e['uid'] for e in cal['events']]}")
        if set(events) != set(truth):
            problems.append(f"{name}: UIDs {sorted(events)} != expected {sorted(truth)}")
        if cal["name"] != expected["calendar"]["name"]:
            problems.append(f"{name}: calendar name {cal['name']!r} != {expected['calendar']['name']!r}")
        for uid, want in truth.items():
            got = events.get(uid)
            if got is None:
                continue
            for field, value in want.items():
                if got[field] != value:
                    problems.append(f"{name}: {uid}: {field} = {got[field]!r}, expected {value!r}")
            # No alarm on what is not acted on (`remind = false`: sessions,
            # open calls) nor on what is cancelled.
            remind = next(d["remind"] for d in expected["deadlines"] if d["uid"] == uid)
            alarms = [-86400] if remind and want["status"] != "CANCELLED" else []
            if want["status"] != "CANCELLED" and got["alarms"] != alarms:
                problems.append(f"{name}: {uid}: alarms {got['alarms']} != {alarms}")

    # The three parsers agree on every field of every event.
    names = list(parsed)
    for uid in truth:
        for field in FIELDS:
            values = {n: next((e[field] for e in parsed[n]["events"] if e["uid"] == uid), None) for n in names}
            if len({json.dumps(v, ensure_ascii=False) for v in values.values()}) > 1:
                problems.append(f"{uid}: parsers disagree on {field}: {values}")

    # Descriptions keep the staff's text, with its line breaks.
    for d in expected["deadlines"]:
        if d["description"]:
            desc = next(e["description"] for e in parsed["ical.js"]["events"] if e["uid"] == d["uid"])
            if d["description"] not in desc:
                problems.append(f"{d['uid']}: description lost text: {desc!r}")

    raw = open(feed_path, "rb").read()
    for i, line in enumerate(raw.split(b"\r\n")):
        if len(line) > 75:
            problems.append(f"line {i + 1} is {len(line)} octets long")
        if b"\n" in line or b"\r" in line:
            problems.append(f"line {i + 1} holds a bare CR or LF")

    if problems:
        print(f"{feed_path}: {len(problems)} problem(s):")
        for p in problems:
            print("  " + p)
        sys.exit(1)
    print(f"{feed_path}: {len(truth)} events read identically by {', '.join(names)}")


if __name__ == "__main__":
    main()
