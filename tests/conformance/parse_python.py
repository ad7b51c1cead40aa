"""Parses an iCalendar file with Python `icalendar` and with `vobject` and
prints each parser's events as normalised JSON: {"icalendar": ..., "vobject": ...}."""
import datetime as dt
import json
import sys


def start_of(value):
    if isinstance(value, dt.datetime):
        return False, value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return True, value.isoformat()


def with_icalendar(data):
    import icalendar

    cal = icalendar.Calendar.from_ical(data)
    events = []
    for ev in cal.walk("VEVENT"):
        all_day, start = start_of(ev.decoded("DTSTART"))
        _, end = start_of(ev.decoded("DTEND")) if "DTEND" in ev else (None, None)
        cats = ev.get("CATEGORIES")
        cats = cats if isinstance(cats, list) else [cats] if cats is not None else []
        events.append({
            "uid": str(ev["UID"]),
            "summary": str(ev["SUMMARY"]),
            "description": str(ev["DESCRIPTION"]),
            "all_day": all_day,
            "start": start,
            "end": end,
            "status": str(ev["STATUS"]),
            "categories": [str(c) for cat in cats for c in cat.cats],
            "sequence": int(ev["SEQUENCE"]),
            "alarms": [int(a.decoded("TRIGGER").total_seconds()) for a in ev.walk("VALARM")],
        })
    return {"name": str(cal.get("X-WR-CALNAME")), "events": events}


def with_vobject(text):
    import vobject

    cal = vobject.readOne(text)
    events = []
    for ev in cal.contents.get("vevent", []):
        all_day, start = start_of(ev.dtstart.value)
        _, end = start_of(ev.dtend.value) if "dtend" in ev.contents else (None, None)
        cats = []
        for c in ev.contents.get("categories", []):
            cats.extend(c.value)
        events.append({
            "uid": ev.uid.value,
            "summary": ev.summary.value,
            "description": ev.description.value,
            "all_day": all_day,
            "start": start,
            "end": end,
            "status": ev.status.value,
            "categories": cats,
            "sequence": int(ev.sequence.value),
            "alarms": [int(a.trigger.value.total_seconds()) for a in ev.contents.get("valarm", [])],
        })
    return {"name": cal.contents["x-wr-calname"][0].value, "events": events}


def main():
    path = sys.argv[1]
    data = open(path, "rb").read()
    print(json.dumps({
        "icalendar": with_icalendar(data),
        "vobject": with_vobject(data.decode("utf-8")),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
