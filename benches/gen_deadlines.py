"""Writes a deadline repository of N generated entries, 10 per file, with its
registry: every kind of `due`, most optional fields, Cyrillic titles and
multi-line descriptions. The one data generator of all benchmarks
(benches/load.rs, benches/render.rs, benches/plan.rs, benches/http.sh).

With `schedules`, a third of the entries have 3 milestones (a submission
with `opens`, a pre-session, a session that is not reminded of) and a tenth
repeat yearly (the entry's `due`, or its submission milestone's): the mix
issue 13's benchmarks ask for.

Usage: gen_deadlines.py DIR N [schedules]"""
import datetime as dt
import pathlib
import sys

MECHANISMS = ["upr", "cedaw", "cerd", "crpd", "cat", "crc"]
TOPICS = ["women", "discrimination", "elections", "torture", "children", "civil-society"]
ZONES = ["Europe/Zurich", "Europe/Vienna", "Europe/Minsk", "America/New_York"]

root = pathlib.Path(sys.argv[1])
count = int(sys.argv[2])
schedules = len(sys.argv) > 3 and sys.argv[3] == "schedules"
root.mkdir(parents=True, exist_ok=True)
registry = []
for m in MECHANISMS:
    registry.append(f'[mechanisms.{m}]\nname = "{m.upper()}"\nfull_name = "Committee {m}"\n')
for t in TOPICS:
    registry.append(f'[topics.{t}]\nen = "Topic {t}"\nru = "Тема {t}"\n')
if schedules:
    registry.append('[kinds.submission]\nen = "Submission"\nru = "Подача материалов"\n')
    registry.append('[kinds.pre-session]\nen = "Pre-session"\n')
    registry.append('[kinds.session]\nen = "Session"\nremind = false\n')
(root / "registry.toml").write_text("\n".join(registry), encoding="utf-8")
per_file = 10
for f in range(0, count, per_file):
    parts = []
    for n in range(f, min(f + per_file, count)):
        # Spread evenly over 2027-2029, every kind of `due` on every day.
        day = dt.date(2027, 1, 1) + dt.timedelta(days=n * 1095 // count)
        yearly = schedules and n % 10 == 1
        if yearly and (day.month, day.day) == (2, 29):
            day = day.replace(day=28)
        date = day.isoformat()
        due = [date, f"{date}T18:00:00", f"{date}T12:00:00Z"][n % 3]
        repeat = '\nrepeat = "yearly"' if yearly else ""
        if schedules and n % 3 == 0:
            opens = (day - dt.timedelta(days=60)).isoformat()
            pre = (day + dt.timedelta(days=90)).isoformat()
            session = (day + dt.timedelta(days=180)).isoformat()
            schedule = f'''[[deadline.milestone]]
kind = "submission"
opens = {opens}
due = {due}{repeat}

[[deadline.milestone]]
kind = "pre-session"
due = {pre}

[[deadline.milestone]]
kind = "session"
due = {session}
'''
        else:
            schedule = ""
        due_line = "" if schedule else f"due = {due}{repeat}\n"
        parts.append(f'''[[deadline]]
id = "deadline-{n}"
title = "Альтернативный доклад номер {n} для комитета"
mechanism = "{MECHANISMS[n % len(MECHANISMS)]}"
topics = ["{TOPICS[n % len(TOPICS)]}", "{TOPICS[(n + 3) % len(TOPICS)]}"]
{due_line}timezone = "{ZONES[n % len(ZONES)]}"
country = "BY"
body = "Session {n}"
url = "https://www.ohchr.org/en/calls-for-input/{n}"
submit_to = "submissions-{n}@example.org"
status = "{["confirmed", "tentative", "cancelled"][n % 3]}"
remind_days = [30, 7, 1]
description = """
Описание дедлайна {n}.
Second line of the description.
"""
{schedule}''')
    year_dir = root / str(2020 + (f // per_file) % 10)
    year_dir.mkdir(exist_ok=True)
    (year_dir / f"file-{f // per_file:04}.toml").write_text("\n".join(parts), encoding="utf-8")
