"""Sign requests with botocore, for the Go tests of the sigv4 verifier.

  botocore_sign.py sign    < spec.json   signs each request of the spec with SigV4Auth
                                         and prints them, prepared for the wire, as JSON.
  botocore_sign.py client  < spec.json   calls the IVS API at spec["endpoint"] with a
                                         botocore client (what the AWS CLI does) and
                                         prints one JSON result per call.
  botocore_sign.py creds   < spec.json   prints the credentials botocore reads from the
                                         shared-credentials file spec["file"].

The signing time is fixed to spec["timestamp"] (YYYYMMDDTHHMMSSZ).
"""

import datetime
import json
import os
import sys

import botocore.auth
import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError


def fix_time(timestamp):
    fixed = datetime.datetime.strptime(timestamp, "%Y%m%dT%H%M%SZ")
    botocore.auth.get_current_datetime = lambda remove_tzinfo=True: fixed


def sign(spec):
    out = []
    for r in spec["requests"]:
        creds = Credentials(spec["access_key"], spec["secret_key"], r.get("token"))
        req = AWSRequest(
            method=r["method"],
            url=r["url"],
            headers=dict(r.get("headers", {})),
            data=r.get("body", "").encode("utf-8"),
            params=[tuple(p) for p in r.get("params", [])],
        )
        SigV4Auth(creds, spec.get("service", "ivs"), spec["region"]).add_auth(req)
        prepared = req.prepare()
        out.append(
            {
                "name": r["name"],
                "method": prepared.method,
                "url": prepared.url,
                "headers": [[k, v] for k, v in prepared.headers.items()],
                "body": (prepared.body or b"").decode("utf-8"),
            }
        )
    json.dump(out, sys.stdout)


def client(spec):
    session = botocore.session.get_session()

    def make(secret):
        return session.create_client(
            "ivs",
            region_name=spec["region"],
            endpoint_url=spec["endpoint"],
            aws_access_key_id=spec["access_key"],
            aws_secret_access_key=secret,
            config=Config(retries={"max_attempts": 1, "mode": "standard"}),
        )

    c = make(spec["secret_key"])
    arn = "arn:aws:ivs:us-west-2:123456789012:playback-key/AbCd"
    pem = "-----BEGIN PUBLIC KEY-----\nMHYw\n-----END PUBLIC KEY-----\n"
    calls = [
        ("ImportPlaybackKeyPair", c, lambda c: c.import_playback_key_pair(publicKeyMaterial=pem, name="k", tags={"a b": "c/d"})),
        ("ListPlaybackKeyPairs", c, lambda c: c.list_playback_key_pairs(maxResults=3)),
        ("GetPlaybackKeyPair", c, lambda c: c.get_playback_key_pair(arn=arn)),
        ("TagResource", c, lambda c: c.tag_resource(resourceArn=arn, tags={"env": "prod"})),
        ("UntagResource", c, lambda c: c.untag_resource(resourceArn=arn, tagKeys=["a b", "c/d", "\u00e9", "x+y=z&"])),
        ("ListTagsForResource", c, lambda c: c.list_tags_for_resource(resourceArn=arn)),
        ("WrongSecret", make("wrong" + spec["secret_key"]), lambda c: c.list_playback_key_pairs()),
    ]
    results = []
    for name, cl, call in calls:
        try:
            call(cl)
            results.append({"name": name, "ok": True})
        except ClientError as e:
            err = e.response.get("Error", {})
            results.append({"name": name, "ok": False, "code": err.get("Code"), "message": err.get("Message")})
    json.dump(results, sys.stdout)


def creds(spec):
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = spec["file"]
    c = botocore.session.get_session().get_credentials().get_frozen_credentials()
    json.dump({"access_key": c.access_key, "secret_key": c.secret_key, "account_id": getattr(c, "account_id", None)}, sys.stdout)


if __name__ == "__main__":
    spec = json.load(sys.stdin)
    fix_time(spec.get("timestamp", "20261128T123000Z"))
    {"sign": sign, "client": client, "creds": creds}[sys.argv[1]](spec)
