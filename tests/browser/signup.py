#!/usr/bin/env python3
"""Sign-up in headless Chromium with JavaScript off, driven through the
DevTools protocol over a pipe (--remote-debugging-pipe: no extra package):
type an address, tick one topic, submit; read the confirmation mail from
the Maildir with Python's email; open its link, press the button; then a
`mechcal remind --now` pass must reach the new address with that topic only.
The reminder's preference link: untick the topic, tick another, save — the
next pass follows; then "delete everything", and the state database's
files (and a `sqlite3 .backup`) hold no trace of the address.

usage: signup.py URL MAILDIR MECHCAL CONFIG WORKDIR STATE
"""
import email
import email.policy
import json
import os
import pathlib
import subprocess
import sys
import time

url, maildir, mechcal, config, work, state = sys.argv[1:7]
ADDRESS = "browser.user@example.org"


class Chromium:
    def __init__(self, profile):
        # fd 3: what Chromium reads (our commands); fd 4: what it writes.
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()

        def fds():
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)

        self.proc = subprocess.Popen(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update",
             "--no-first-run", "--disable-sync", f"--user-data-dir={profile}",
             "--remote-debugging-pipe",
             *os.environ.get("MECHCAL_CHROMIUM_FLAGS", "").split(), "about:blank"],
            preexec_fn=fds, pass_fds=(3, 4),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buf = b""
        self.next_id = 0
        self.events = []
        self.session = None

    def send(self, method, params=None, session=True):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self.to_chrome, json.dumps(msg).encode() + b"\0")
        while True:
            m = self.read()
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def read(self):
        while b"\0" not in self.buf:
            chunk = os.read(self.from_chrome, 65536)
            if not chunk:
                raise RuntimeError("Chromium closed the pipe")
            self.buf += chunk
        raw, self.buf = self.buf.split(b"\0", 1)
        return json.loads(raw)

    def wait_event(self, method, timeout=20):
        end = time.time() + timeout
        while time.time() < end:
            for i, e in enumerate(self.events):
                if e.get("method") == method:
                    del self.events[i]
                    return e
            self.events.append(self.read())
        raise RuntimeError(f"no {method} within {timeout} s")

    def open(self, first_url):
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)
        attached = self.send("Target.attachToTarget",
                             {"targetId": target["targetId"], "flatten": True}, session=False)
        self.session = attached["sessionId"]
        self.send("Page.enable")
        self.send("Emulation.setScriptExecutionDisabled", {"value": True})
        self.navigate(first_url)

    def navigate(self, to):
        self.events.clear()
        self.send("Page.navigate", {"url": to})
        self.wait_event("Page.loadEventFired")

    def node(self, selector):
        root = self.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        node = self.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        if not node:
            raise RuntimeError(f"no {selector} on the page")
        return node

    def click(self, selector, then_load=False):
        node = self.node(selector)
        self.send("DOM.scrollIntoViewIfNeeded", {"nodeId": node})
        quad = self.send("DOM.getContentQuads", {"nodeId": node})["quads"][0]
        x = sum(quad[0::2]) / 4
        y = sum(quad[1::2]) / 4
        if then_load:
            self.events.clear()
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent",
                      {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})
        if then_load:
            self.wait_event("Page.loadEventFired")

    def type_into(self, selector, text):
        self.send("DOM.focus", {"nodeId": self.node(selector)})
        self.send("Input.insertText", {"text": text})

    def html(self):
        root = self.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        return self.send("DOM.getOuterHTML", {"nodeId": root})["outerHTML"]

    def close(self):
        try:
            self.send("Browser.close", session=False)
        except Exception:
            pass
        self.proc.wait(timeout=10)


def mails_to(address, n, timeout=10):
    end = time.time() + timeout
    while True:
        found = []
        new = pathlib.Path(maildir) / "new"
        for f in sorted(new.iterdir()) if new.is_dir() else []:
            m = email.message_from_binary_file(f.open("rb"), policy=email.policy.default)
            if str(m["To"]) == address:
                found.append(m)
        if len(found) >= n or time.time() > end:
            return found
        time.sleep(0.2)


def text_of(m):
    return "\n".join(p.get_content() for p in m.walk() if p.get_content_type() == "text/plain")


problems = []
c = Chromium(os.path.join(work, "profile-signup"))
try:
    c.open(url + "?lang=en")
    if "<script" in c.html():
        problems.append("the page has a script")
    c.type_into("#signup-email", ADDRESS)
    c.click('input[name="topic"][value="hate-crime"]')
    c.click('#signup button[type="submit"]', then_load=True)
    page = c.html()
    if "Check your mailbox" not in page:
        problems.append("after submitting: " + page[-600:])
    confirm = mails_to(ADDRESS, 1)
    if len(confirm) != 1:
        problems.append(f"{len(confirm)} confirmation mails")
    else:
        link = next(l.strip() for l in text_of(confirm[0]).splitlines() if "subscribe/confirm?token=" in l)
        c.navigate(link)
        if "Confirm your reminders" not in c.html():
            problems.append("the confirmation link shows: " + c.html()[-600:])
        c.click("form button", then_load=True)
        if "Reminders confirmed" not in c.html():
            problems.append("after the button: " + c.html()[-600:])
finally:
    c.close()

def remind(now):
    subprocess.run([mechcal, "--config", config, "remind", "--now", now],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def traces(address):
    import base64
    return [address.encode(), address.encode().hex().encode(),
            base64.b64encode(address.encode()).rstrip(b"=")]


def database_holds(needle):
    backup = pathlib.Path(work) / "state.backup"
    if backup.exists():
        backup.unlink()
    subprocess.run(["sqlite3", state, f".backup '{backup}'"], check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    files = [pathlib.Path(state + s) for s in ("", "-wal", "-shm")] + [backup]
    return any(f.exists() and needle in f.read_bytes() for f in files)


if not problems:
    remind("2027-03-25T12:00:00Z")
    got = [m for m in mails_to(ADDRESS, 2) if m["List-Unsubscribe"]]
    if len(got) != 1:
        problems.append(f"{len(got)} reminders to the new subscriber")
    else:
        body = text_of(got[0])
        if "ODIHR" not in str(got[0]["Subject"]):
            problems.append("the reminder is not the ODIHR one: " + str(got[0]["Subject"]))
        if "UPR" in str(got[0]["Subject"]) or "stakeholder" in body.lower():
            problems.append("the reminder holds a topic not chosen")
        manage = next(l.strip() for l in body.splitlines() if "/manage?token=" in l)
        c = Chromium(os.path.join(work, "profile-manage"))
        try:
            c.open(manage)
            c.click('input[name="topic"][value="hate-crime"]')
            c.click('input[name="topic"][value="upr"]')
            c.click('button[value="save"]', then_load=True)
            if "Your choice is saved." not in c.html():
                problems.append("after saving: " + c.html()[-600:])
            remind("2027-03-26T12:00:00Z")
            upr = [m for m in mails_to(ADDRESS, 3) if m["List-Unsubscribe"] and "UPR" in str(m["Subject"])]
            if len(upr) != 1:
                problems.append(f"{len(upr)} UPR reminders after the change of topic")
            for t in traces(ADDRESS):
                if database_holds(t):
                    problems.append(f"the database holds {t!r} before deletion")
            c.click('button[value="delete"]', then_load=True)
            if "Everything deleted" not in c.html():
                problems.append("after deleting: " + c.html()[-600:])
        finally:
            c.close()
        for t in traces(ADDRESS):
            if database_holds(t):
                problems.append(f"the database holds {t!r} after deletion")
        remind("2027-04-10T12:00:00Z")
        # The Maildir keeps none of their mails but the deletion notice, and
        # no reminder comes after it.
        left = mails_to(ADDRESS, 2, timeout=2)
        if [m for m in left if m["List-Unsubscribe"]]:
            problems.append("a reminder after deletion, or one kept in the Maildir")
        if len(left) != 1 or "deleted" not in text_of(left[0]):
            problems.append(f"{len(left)} mails left after deletion, not the one deletion notice")

if problems:
    print("\n".join(problems))
    sys.exit(1)
print("browser sign-up: passed (JavaScript off: form, confirmation mail, button, reminder, "
      "preference page, deletion)")
