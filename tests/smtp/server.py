"""A real SMTP server on loopback (aiosmtpd) for mechcal's delivery tests.

Usage: server.py OUTDIR PORTFILE [MODE ...]
Writes each accepted message to OUTDIR/NNN.eml and its port to PORTFILE.
Modes (any number):
  tempfail:N      answer 451 to the first N DATA commands, then accept
  reject:ADDR     answer 550 to RCPT TO:<ADDR>, always
  drop:N          close the connection during the first N DATA transfers
  slow:SECONDS    wait that long before answering DATA (for kill tests)
  starttls:DIR    offer STARTTLS with DIR/server.pem and DIR/server.key, and
                  refuse mail until the client has started TLS
  implicit:DIR    speak TLS from the first byte (SMTPS), same certificate
Every DATA received (accepted or not) is counted in OUTDIR/data-count."""
import asyncio
import pathlib
import socket
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

out = pathlib.Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
modes = dict(m.split(":", 1) for m in sys.argv[3:])
state = {"tempfail": int(modes.get("tempfail", 0)), "drop": int(modes.get("drop", 0)), "data": 0, "saved": 0}
reject = modes.get("reject", "").lower()
slow = float(modes.get("slow", 0))


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if reject and address.lower() == reject:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        state["data"] += 1
        (out / "data-count").write_text(str(state["data"]))
        if state["drop"] > 0:
            state["drop"] -= 1
            session.transport.close()
            return "421 closing"
        if state["tempfail"] > 0:
            state["tempfail"] -= 1
            return "451 4.3.0 try again later"
        if slow:
            await asyncio.sleep(slow)
        state["saved"] += 1
        (out / f"{state['saved']:03}.eml").write_bytes(envelope.original_content)
        # Whether this message came over TLS, for the TLS tests.
        # (STARTTLS sets session.ssl; implicit TLS shows on the transport.)
        over_tls = session.ssl or server.transport.get_extra_info("ssl_object")
        (out / f"{state['saved']:03}.tls").write_text("yes" if over_tls else "no")
        return "250 OK"


# aiosmtpd checks that it is up by connecting to its port, so it cannot
# listen on port 0: take a free port from the kernel first.
with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
tls = {}
if "starttls" in modes or "implicit" in modes:
    import ssl

    certs = pathlib.Path(modes.get("starttls") or modes["implicit"])
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certs / "server.pem", certs / "server.key")
    if "starttls" in modes:
        tls = {"tls_context": context, "require_starttls": True}
    else:
        tls = {"ssl_context": context}
controller = Controller(Handler(), hostname="127.0.0.1", port=port, **tls)
controller.start()
pathlib.Path(sys.argv[2]).write_text(str(port))
try:
    while True:
        time.sleep(3600)
except KeyboardInterrupt:
    controller.stop()
