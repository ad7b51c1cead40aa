"""Opens every message of a Maildir as a mail program would, with GnuPG.

Usage: pgp_open.py MAILDIR_NEW GNUPGHOME

Prints one JSON object per message: its recipient, outer Subject and From,
whether it is PGP/MIME (RFC 3156), the outer message's text outside the
encrypted part, and, decrypted by `gpg --decrypt`, the inner message's
protected headers, its parts and its text (Python `email` parses both).
"""

import email
import email.policy
import json
import os
import subprocess
import sys

maildir, home = sys.argv[1], sys.argv[2]
for name in sorted(os.listdir(maildir)):
    raw = open(os.path.join(maildir, name), "rb").read()
    outer = email.message_from_bytes(raw, policy=email.policy.default)
    out = {
        "file": name,
        "to": str(outer["To"]),
        "subject": str(outer["Subject"]),
        "from": str(outer["From"]),
        "list_id": str(outer["List-Id"]),
        "encrypted": False,
    }
    if outer.get_content_type() == "multipart/encrypted":
        parts = outer.get_payload()
        out["encrypted"] = (
            outer.get_param("protocol") == "application/pgp-encrypted"
            and len(parts) == 2
            and parts[0].get_content_type() == "application/pgp-encrypted"
            and parts[0].get_payload().strip() == "Version: 1"
            and parts[1].get_content_type() == "application/octet-stream"
        )
        armored = parts[1].get_payload(decode=True)
        # Everything a server or a glance sees: headers and the clear part.
        out["outside"] = raw.decode("utf-8", "replace").replace(armored.decode(), "")
        run = subprocess.run(
            ["gpg", "--homedir", home, "--batch", "--quiet", "--decrypt"],
            input=armored,
            capture_output=True,
        )
        out["gpg_status"] = run.returncode
        out["gpg_stderr"] = run.stderr.decode("utf-8", "replace")
        inner = email.message_from_bytes(run.stdout, policy=email.policy.default)
        out["protected"] = inner.get_param("protected-headers")
        out["inner_subject"] = str(inner["Subject"])
        out["inner_from"] = str(inner["From"])
        out["inner_message_id"] = str(inner["Message-ID"])
        out["outer_message_id"] = str(outer["Message-ID"])
        out["parts"] = [p.get_content_type() for p in inner.walk()]
        texts = []
        for p in inner.walk():
            if p.get_content_maintype() == "text":
                texts.append(p.get_content())
        out["inner_text"] = "\n".join(texts)
    else:
        out["outside"] = raw.decode("utf-8", "replace")
        body = outer.get_body(preferencelist=("plain",))
        out["text"] = body.get_content() if body else ""
    print(json.dumps(out, ensure_ascii=False))
