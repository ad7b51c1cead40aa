"""Builds and serialises with Python `icalendar` the calendar mechcal renders
for the same deadlines (read from mechcal's deadlines.json), and prints the
median time. Used by `cargo bench --bench render`."""
import datetime as dt
import json
import statistics
import sys
import time

import icalendar


def build(doc):
    cal = icalendar.Calendar()
    cal.add("prodid", "-//mechcal//mechcal deadline calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("name", doc["calendar"]["name"])
    cal.add("x-wr-calname", doc["calendar"]["name"])
    cal.add("refresh-interval", dt.timedelta(hours=6), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT6H")
    stamp = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    for d in doc["deadlines"]:
        ev = icalendar.Event()
        ev.add("uid", d["uid"])
        ev.add("dtstamp", stamp)
        ev.add("last-modified", stamp)
        ev.add("sequence", d["sequence"])
        if d["due"]["kind"] == "date":
            day = dt.date.fromisoformat(d["due"]["date"])
            ev.add("dtstart", day)
            ev.add("dtend", day + dt.timedelta(days=1))
        else:
            at = dt.datetime.fromisoformat(d["due"]["instant"].replace("Z", "+00:00"))
            ev.add("dtstart", at)
            ev.add("dtend", at)
        ev.add("summary", d["summary"])
        lines = [f"Mechanism: {d['mechanism']['full_name']} ({d['mechanism']['name']})"]
        if d["body"]:
            lines.append(d["body"])
        lines.append(f"Due: {d['due']['date']} ({d['due']['timezone']})")
        if d["submit_to"]:
            lines.append(f"Submit to: {d['submit_to']['value']}")
        if d["url"]:
            lines.append(f"Link: {d['url']}")
        lines.append("Topics: " + ", ".join(t["name"] for t in d["topics"]))
        if d["description"]:
            lines.append("\n" + d["description"])
        ev.add("description", "\n".join(lines))
        if d["url"]:
            ev.add("url", d["url"])
        ev.add("categories", [d["mechanism"]["name"]] + [t["name"] for t in d["topics"]])
        ev.add("status", d["status"].upper())
        ev.add("transp", "TRANSPARENT")
        ev.add("class", "PUBLIC")
        if d["status"] != "cancelled":
            alarm = icalendar.Alarm()
            alarm.add("uid", d["uid"].replace("@", "-alarm@"))
            alarm.add("action", "DISPLAY")
            alarm.add("description", d["summary"])
            alarm.add("trigger", dt.timedelta(days=-1))
            ev.add_component(alarm)
        cal.add_component(ev)
    return cal.to_ical()


def main():
    doc = json.load(open(sys.argv[1], encoding="utf-8"))
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    out = build(doc)  # warm-up
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        out = build(doc)
        times.append(time.perf_counter() - t)
    print(json.dumps({
        "median_seconds": statistics.median(times),
        "runs": runs,
        "events": len(doc["deadlines"]),
        "bytes": len(out),
        "version": icalendar.__version__,
    }))


if __name__ == "__main__":
    main()
