"""Writes one realistic table of deadlines three ways, as staff's tools
write them: DIR/table.xlsx (openpyxl, dates as date cells), DIR/table.ods
(odfpy, dates as date cells) and DIR/table.csv (Windows-1251, `;`, dates as
text in the forms people type). The same N rows each time, in Russian and
Belarusian with a few in English, so that the three imports must give the
same files.

Usage: make_tables.py DIR [N]   (N = 200 by default)"""
import csv
import datetime as dt
import io
import pathlib
import sys

from odf.opendocument import OpenDocumentSpreadsheet
from odf.table import Table, TableCell, TableRow
from odf.text import P
from openpyxl import Workbook

out = pathlib.Path(sys.argv[1])
n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
out.mkdir(parents=True, exist_ok=True)

HEADER = ["№", "Название", "Темы", "Механизм", "Срок", "Ссылка", "Описание", "Языки"]
TITLES = [
    "Альтернативный доклад",
    "Призыв к представлению материалов: свобода объединений",
    "Заўвагі да даклада",
    "Информация о насильственных исчезновениях",
    "Call for input: civic space",
    "Доклад о политических заключённых",
    "Материалы к обзору",
    "Справаздача пра правы дзяцей",
]
TOPICS = [
    "Дискриминация; Женщины",
    "Гражданское общество",
    "Палітычныя зняволеныя",
    "Насильственные исчезновения",
    "civil-society, freedom-of-expression",
    "Политические заключённые\nПытки",
    "УПО (Универсальный периодический обзор)",
    "Права ребёнка",
]
MECHANISMS = ["CERD", "Special Procedures", "Спецыяльныя працэдуры", "cat", "hrc", "CAT", "UPR", "CRC"]
MONTHS_RU = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля",
             "августа", "сентября", "октября", "ноября", "декабря"]


def row(i):
    k = i % len(TITLES)
    due = dt.date(2027, 1, 1) + dt.timedelta(days=(i * 7) % 700)
    # Row 1 of every 8 has a time, in Geneva.
    at = dt.time(12, 0) if k == 3 else None
    return {
        "number": i + 1,
        "title": f"{TITLES[k]} № {i + 1}",
        "topics": TOPICS[k],
        "mechanism": MECHANISMS[k],
        "due": due,
        "at": at,
        "url": f"https://www.ohchr.org/en/calls-for-input/{i + 1}" if k % 2 == 0 else "",
        "description": "Первая строка.\nВторая строка." if k == 1 else "",
        "languages": "en, fr, ru" if k == 2 else "",
    }


rows = [row(i) for i in range(n)]

# XLSX: dates (and date-times) as date cells.
book = Workbook()
sheet = book.active
sheet.title = "Календарь"
sheet.append(HEADER)
for r in rows:
    due = dt.datetime.combine(r["due"], r["at"]) if r["at"] else r["due"]
    sheet.append([r["number"], r["title"], r["topics"], r["mechanism"], due,
                  r["url"] or None, r["description"] or None, r["languages"] or None])
    if r["at"]:
        sheet.cell(row=sheet.max_row, column=5).number_format = "dd.mm.yyyy hh:mm"
    else:
        sheet.cell(row=sheet.max_row, column=5).number_format = "dd.mm.yyyy"
book.save(out / "table.xlsx")

# ODS: dates as date cells.
doc = OpenDocumentSpreadsheet()
table = Table(name="Календарь")


def text_cell(value):
    cell = TableCell(valuetype="string")
    for i, line in enumerate(str(value).split("\n")):
        cell.addElement(P(text=line))
    return cell


header = TableRow()
for h in HEADER:
    header.addElement(text_cell(h))
table.addElement(header)
for r in rows:
    tr = TableRow()
    tr.addElement(TableCell(valuetype="float", value=r["number"]))
    for key in ("title", "topics", "mechanism"):
        tr.addElement(text_cell(r[key]))
    if r["at"]:
        value = dt.datetime.combine(r["due"], r["at"]).isoformat()
    else:
        value = r["due"].isoformat()
    tr.addElement(TableCell(valuetype="date", datevalue=value))
    for key in ("url", "description", "languages"):
        tr.addElement(text_cell(r[key]) if r[key] else TableCell())
    table.addElement(tr)
doc.spreadsheet.addElement(table)
doc.save(str(out / "table.ods"))

# CSV: Windows-1251, `;`, dates typed as text in three forms.
buffer = io.StringIO()
writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
writer.writerow(HEADER)
for r in rows:
    d = r["due"]
    form = r["number"] % 3
    if form == 0:
        text = d.strftime("%d.%m.%Y")
    elif form == 1:
        text = f"{d.day} {MONTHS_RU[d.month - 1]} {d.year} г."
    else:
        text = d.isoformat()
    if r["at"]:
        text = d.strftime("%d.%m.%Y") + " 12:00"
    writer.writerow([r["number"], r["title"], r["topics"], r["mechanism"], text,
                     r["url"], r["description"], r["languages"]])
(out / "table.csv").write_bytes(buffer.getvalue().encode("cp1251"))
