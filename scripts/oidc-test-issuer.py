#!/usr/bin/env python3
"""A small OpenID Connect issuer for picpipe's tests: an issuer independent of picpipe's own code (PyJWT and
cryptography from PyPI), serving discovery and a JWKS on loopback and minting RS256 and ES256 tokens, plus the
broken ones a verifier must refuse (alg none, HS256 keyed with the public key, tampered payload).

    oidc-test-issuer.py PORT_FILE      # listens on 127.0.0.1:<free port>, writes the port to PORT_FILE

GET  /.well-known/openid-configuration   discovery ({"issuer", "jwks_uri"})
GET  /jwks                               the published keys (rsa-1 and ec-1; rsa-2 once rotated in)
POST /mint   {"kid": "rsa-1", "claims": {...}, "expires_in": 300, "attack": "none" | "hs256-public" | "tamper"}
             a token: default claims iss, aud "picpipe-api", sub "alice", iat, exp, jti (unique); `claims` override them
             (a null value removes one)
POST /rotate {"publish": ["rsa-1", "rsa-2"]} which keys the JWKS publishes from now on
POST /rotate {"replace": ["rsa-1"]}     new key pairs under the same kids (published and signing from now on)
GET  /stats  {"jwks_fetches": N, "discovery_fetches": N}
"""
import base64
import hashlib
import hmac
import json
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

KEYS = {
    "rsa-1": ("RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048)),
    "rsa-2": ("RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048)),
    "ec-1": ("ES256", ec.generate_private_key(ec.SECP256R1())),
}
state = {"published": ["rsa-1", "ec-1"], "jwks_fetches": 0, "discovery_fetches": 0}
lock = threading.Lock()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(kid: str) -> dict:
    alg, key = KEYS[kid]
    algorithm = jwt.algorithms.RSAAlgorithm if alg == "RS256" else jwt.algorithms.ECAlgorithm
    jwk = json.loads(algorithm.to_jwk(key.public_key()))
    jwk.update({"kid": kid, "use": "sig", "alg": alg})
    return jwk


def public_pem(kid: str) -> bytes:
    return KEYS[kid][1].public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


class Issuer(BaseHTTPRequestHandler):
    issuer = ""

    def log_message(self, *args):
        pass

    def answer(self, status: int, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/.well-known/openid-configuration":
            with lock:
                state["discovery_fetches"] += 1
            self.answer(200, {"issuer": self.issuer, "jwks_uri": self.issuer + "/jwks",
                              "id_token_signing_alg_values_supported": ["RS256", "ES256"]})
        elif self.path == "/jwks":
            with lock:
                state["jwks_fetches"] += 1
                published = list(state["published"])
            self.answer(200, {"keys": [public_jwk(kid) for kid in published]})
        elif self.path == "/stats":
            with lock:
                self.answer(200, {k: state[k] for k in ("jwks_fetches", "discovery_fetches")})
        else:
            self.answer(404, {"error": "no such path"})

    def do_POST(self):
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        if self.path == "/rotate":
            with lock:
                if "publish" in request:
                    state["published"] = list(request["publish"])
                for kid in request.get("replace", []):
                    alg = KEYS[kid][0]
                    key = (rsa.generate_private_key(public_exponent=65537, key_size=2048) if alg == "RS256"
                           else ec.generate_private_key(ec.SECP256R1()))
                    KEYS[kid] = (alg, key)
            self.answer(200, {"published": state["published"]})
        elif self.path == "/mint":
            self.answer(200, mint(request).encode(), "text/plain")
        else:
            self.answer(404, {"error": "no such path"})


def mint(request: dict) -> str:
    now = int(time.time())
    claims = {"iss": Issuer.issuer, "aud": "picpipe-api", "sub": "alice", "iat": now,
              "exp": now + int(request.get("expires_in", 300)), "jti": str(uuid.uuid4())}
    for name, value in request.get("claims", {}).items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    kid = request.get("kid", "rsa-1")
    attack = request.get("attack")
    if attack == "none":
        header = {"alg": "none", "typ": "JWT", "kid": kid}
        return b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode()) + "."
    if attack == "hs256-public":
        # The classic confusion: an HMAC whose secret is the issuer's public key, which anyone has.
        header = {"alg": "HS256", "typ": "JWT", "kid": kid}
        signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
        mac = hmac.new(public_pem(kid), signing_input.encode(), hashlib.sha256).digest()
        return signing_input + "." + b64url(mac)
    alg, key = KEYS[kid]
    token = jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})
    if attack == "tamper":
        # A valid signature over other claims: the payload is swapped for one granting more.
        header, _, signature = token.split(".")
        forged = dict(claims, scope="admin")
        return header + "." + b64url(json.dumps(forged).encode()) + "." + signature
    return token


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Issuer)
    Issuer.issuer = "http://127.0.0.1:%d" % server.server_address[1]
    with open(sys.argv[1], "w") as port_file:
        port_file.write(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
