"""A web site on HOSTS loopback addresses (127.0.0.1 … 127.0.0.HOSTS), for
benches/watch.sh: every path answers a call page of about 30 KB whose text
names the path, with an ETag (a second pass gets 304s). Prints one
`address:port` line per host, then `ready`, and serves until killed.

Usage: python3 watch_site.py HOSTS
"""

import asyncio
import hashlib
import sys

FILLER = "".join(
    f"<p>Paragraph {i}: submissions should not exceed 2,500 words and may be sent in English, "
    f"French or Spanish. <a href='/x/{i}'>More</a></p>\n"
    for i in range(150)
)


def page(path: str) -> bytes:
    return (
        "<!DOCTYPE html><html><head><title>Call for input</title>"
        "<script>var token = 'abc';</script></head><body>"
        f"<h1>Call for input {path}</h1><p>Deadline: 30 April 2027</p>{FILLER}</body></html>"
    ).encode()


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        writer.close()
        return
    lines = head.decode("latin-1").split("\r\n")
    path = lines[0].split(" ")[1]
    body = page(path)
    etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
    if any(l.lower().startswith("if-none-match:") and etag in l for l in lines):
        writer.write(f"HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nConnection: close\r\n\r\n".encode())
    else:
        writer.write(
            f"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nETag: {etag}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body
        )
    try:
        await writer.drain()
    except ConnectionError:
        pass
    writer.close()


async def main(hosts: int) -> None:
    servers = []
    for h in range(1, hosts + 1):
        server = await asyncio.start_server(handle, f"127.0.0.{h}", 0, backlog=1024)
        servers.append(server)
        print(f"127.0.0.{h}:{server.sockets[0].getsockname()[1]}", flush=True)
    print("ready", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
