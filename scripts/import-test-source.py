#!/usr/bin/env python3
"""A picture source for picpipe's import tests (standard library only), on 127.0.0.1:<free port>.

    import-test-source.py PORT_FILE JPEG_FILE

GET /photo.jpg      the JPEG file
GET /r/N            302 to /r/N-1, and /r/0 to /photo.jpg (a chain of N+1 redirects)
GET /huge           a JPEG start, then 2 GB of bytes as fast as the socket takes them
GET /drip           Content-Length 1 MB, a JPEG start, then one byte a second
GET /page.html      an HTML page
GET /wide.png       a 1000x1000 1-bit PNG (a million pixels in a few hundred bytes)
GET /cut            Content-Length of the whole JPEG, half of it, then the connection closes
GET /to-metadata    302 to http://169.254.169.254/latest/meta-data/ (the cloud metadata address)
GET /to-mapped      302 to http://[::ffff:127.0.0.1]:PORT/photo.jpg (loopback written as IPv4-mapped IPv6)
GET /to-bad-port    302 to http://127.0.0.1:70000/photo.jpg (a port no TCP connection can have)
"""
import struct
import sys
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

JPEG_START = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"


def png(width, height):
    """A black 1-bit greyscale PNG."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = (b"\x00" + b"\x00" * ((width + 7) // 8)) * height
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


WIDE_PNG = png(1000, 1000)


class Source(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    jpeg = b""
    port = 0

    def log_message(self, *args):
        pass

    def redirect(self, location):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        try:
            self.route()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def route(self):
        if self.path == "/photo.jpg":
            self.send_response(200)
            # A lying type: the importer must sniff the bytes, not believe this.
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(self.jpeg)))
            self.end_headers()
            self.wfile.write(self.jpeg)
        elif self.path.startswith("/r/"):
            hops = int(self.path[3:])
            self.redirect("/photo.jpg" if hops == 0 else "/r/%d" % (hops - 1))
        elif self.path == "/huge":
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(JPEG_START)
            chunk = b"\x00" * 65536
            for _ in range(2 * 1024 * 1024 * 1024 // len(chunk)):
                self.wfile.write(chunk)
        elif self.path == "/drip":
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            self.wfile.write(JPEG_START)
            self.wfile.flush()
            for _ in range(600):
                time.sleep(1)
                self.wfile.write(b"\x00")
                self.wfile.flush()
        elif self.path == "/wide.png":
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(WIDE_PNG)))
            self.end_headers()
            self.wfile.write(WIDE_PNG)
        elif self.path == "/cut":
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(self.jpeg)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(self.jpeg[: len(self.jpeg) // 2])
            self.wfile.flush()
            self.close_connection = True
        elif self.path == "/page.html":
            page = b"<!doctype html><html><body><img src=cat.jpg></body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)
        elif self.path == "/to-metadata":
            self.redirect("http://169.254.169.254/latest/meta-data/")
        elif self.path == "/to-mapped":
            self.redirect("http://[::ffff:127.0.0.1]:%d/photo.jpg" % self.port)
        elif self.path == "/to-bad-port":
            self.redirect("http://127.0.0.1:70000/photo.jpg")
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()


def main():
    with open(sys.argv[2], "rb") as picture:
        Source.jpeg = picture.read()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Source)
    server.daemon_threads = True
    Source.port = server.server_address[1]
    with open(sys.argv[1], "w") as port_file:
        port_file.write(str(Source.port))
    server.serve_forever()


if __name__ == "__main__":
    main()
