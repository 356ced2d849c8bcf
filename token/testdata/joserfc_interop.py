#!/usr/bin/env python3
"""Signs and verifies IVS playback tokens with joserfc for the Go interoperability test.

Reads {"jobs": [...]} on stdin and writes {"results": [...]} on stdout, one per job:
  {"op": "sign", "private_pem": "...", "claims": {...}} -> {"token": "..."}
  {"op": "verify", "public_pem": "...", "token": "..."}
    -> {"ok": true, "header": {...}, "payload": {...}} or {"ok": false, "error": "..."}
"""

import json
import sys

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey


def run(job):
    if job["op"] == "sign":
        key = ECKey.import_key(job["private_pem"])
        return {"token": jwt.encode({"alg": "ES384", "typ": "JWT"}, job["claims"], key, algorithms=["ES384"])}
    if job["op"] == "verify":
        key = ECKey.import_key(job["public_pem"])
        try:
            tok = jwt.decode(job["token"], key, algorithms=["ES384"])
            jwt.JWTClaimsRegistry().validate(tok.claims)  # exp must be in the future
        except (JoseError, ValueError) as e:
            return {"ok": False, "error": repr(e)}
        return {"ok": True, "header": tok.header, "payload": tok.claims}
    raise ValueError("bad job op %r" % job["op"])


jobs = json.load(sys.stdin)["jobs"]
json.dump({"results": [run(j) for j in jobs]}, sys.stdout)
