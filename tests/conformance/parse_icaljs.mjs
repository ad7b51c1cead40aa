// Parses an iCalendar file with ical.js (the parser Thunderbird uses) and
// prints its events as normalised JSON on stdout.
import fs from 'node:fs';
import ICAL from 'ical.js';

const text = fs.readFileSync(process.argv[2], 'utf8');
const cal = new ICAL.Component(ICAL.parse(text));
const events = cal.getAllSubcomponents('vevent').map((ev) => {
  const start = ev.getFirstPropertyValue('dtstart');
  const end = ev.getFirstPropertyValue('dtend');
  const when = (t) => (t.isDate ? t.toString() : t.toJSDate().toISOString().replace('.000Z', 'Z'));
  const cats = ev.getFirstProperty('categories');
  return {
    uid: ev.getFirstPropertyValue('uid'),
    summary: ev.getFirstPropertyValue('summary'),
    description: ev.getFirstPropertyValue('description'),
    all_day: start.isDate,
    start: when(start),
    end: end ? when(end) : null,
    status: ev.getFirstPropertyValue('status'),
    categories: cats ? cats.getValues() : [],
    sequence: ev.getFirstPropertyValue('sequence'),
    alarms: ev.getAllSubcomponents('valarm').map((a) => a.getFirstPropertyValue('trigger').toSeconds()),
  };
});
process.stdout.write(JSON.stringify({
  name: cal.getFirstPropertyValue('x-wr-calname'),
  events,
}));
