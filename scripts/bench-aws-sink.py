#!/usr/bin/env python3
"""bench-aws-sink.py - a trivial S3 endpoint that reads and discards every body, for scripts/bench-aws.sh.

    python3 scripts/bench-aws-sink.py PORT

Answers what `aws s3 cp FILE s3://BUCKET/KEY` sends (PutObject; CreateMultipartUpload, UploadPart,
CompleteMultipartUpload, AbortMultipartUpload) with S3's shapes, checks no signature and stores nothing: the time
`aws s3 cp` takes against it is the AWS CLI's own floor (reading the file, hashing and signing every part, HTTP),
which no server can go below. Bench only; not a test fixture.
"""
import http.server
import socketserver
import sys
import uuid

READ = 1 << 20


class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def drain(self):
        """Reads the body (Content-Length, or HTTP chunked) and throws it away, unhashed."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b""):
                        pass
                    break
                self.rfile.read(size)
                self.rfile.readline()
        else:
            left = int(self.headers.get("Content-Length", "0"))
            while left > 0:
                block = self.rfile.read(min(READ, left))
                if not block:
                    break
                left -= len(block)

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self):
        self.drain()
        self.answer(200, headers=[("ETag", '"%s"' % uuid.uuid4().hex)])

    def do_POST(self):
        self.drain()
        path, _, query = self.path.partition("?")
        bucket, _, key = path.lstrip("/").partition("/")
        if query.startswith("uploads") or "&uploads" in query:
            body = (
                '<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult '
                'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>%s</Bucket><Key>%s</Key>'
                "<UploadId>%s</UploadId></InitiateMultipartUploadResult>" % (bucket, key, uuid.uuid4().hex)
            )
        else:
            body = (
                '<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUploadResult '
                'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Location>/%s/%s</Location><Bucket>%s</Bucket>'
                '<Key>%s</Key><ETag>"0-1"</ETag></CompleteMultipartUploadResult>' % (bucket, key, bucket, key)
            )
        self.answer(200, body.encode(), [("Content-Type", "application/xml")])

    def do_DELETE(self):
        self.drain()
        self.answer(204)

    def do_HEAD(self):
        self.answer(404)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 64


if __name__ == "__main__":
    Server(("127.0.0.1", int(sys.argv[1])), Sink).serve_forever()
