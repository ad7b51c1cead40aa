"""Prints mechcal's deadlines.json narrowed to the events of one feed, with
that feed's calendar name: the ground truth compare.py checks parsers against.

Usage: expected.py DEADLINES.json FEED.ics"""
import json
import sys


def unfold(text):
    return text.replace("\r\n ", "").split("\r\n")


def unescape(value):
    return value.replace("\\,", ",").replace("\\;", ";").replace("\\n", "\n").replace("\\\\", "\\")


doc = json.load(open(sys.argv[1], encoding="utf-8"))
lines = unfold(open(sys.argv[2], encoding="utf-8", newline="").read())
uids = [l[4:] for l in lines if l.startswith("UID:") and "-alarm@" not in l]
doc["deadlines"] = [d for d in doc["deadlines"] if d["uid"] in uids]
# X-WR-CALNAME is written without escapes (parsers disagree on them).
doc["calendar"]["name"] = next(l for l in lines if l.startswith("X-WR-CALNAME:"))[13:]
json.dump(doc, sys.stdout, ensure_ascii=False)
