#!/usr/bin/env python3
"""Writes vectors.json: keys, tokens and the verdict IVS rules give each token.

The tokens are made here with joserfc and pyca/cryptography, never with the Go code under
test, and each verdict is written by hand from ../../../shared/ivs-notes.md. Run it only to
add cases (signatures are random, so every run rewrites every token):

    python3 token/testdata/gen_vectors.py > token/testdata/vectors.json
"""

import base64
import json
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from joserfc import jwt
from joserfc.jwk import ECKey

NOW = 1767225600  # 2026-01-01T00:00:00Z
CHANNEL = "arn:aws:ivs:us-west-2:123456789012:channel/AbCdEfGhIjKl"
OTHER = "arn:aws:ivs:us-west-2:123456789012:channel/ZyXwVuTsRqPo"
N384 = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973

keys = {name: ec.generate_private_key(ec.SECP384R1()) for name in ("a", "b", "c")}
keys["p256"] = ec.generate_private_key(ec.SECP256R1())


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def der_to_raw(der, size=48):
    r, s = decode_dss_signature(der)
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def raw_sign(header, payload, key="a", form="raw", mutate=None):
    """Signs exactly the given header and payload bytes (str or bytes)."""
    if isinstance(header, str):
        header = header.encode()
    if isinstance(payload, str):
        payload = payload.encode()
    signing_input = b64(header) + "." + b64(payload)
    k = keys[key]
    h = hashes.SHA384() if k.curve.name == "secp384r1" else hashes.SHA256()
    der = k.sign(signing_input.encode(), ec.ECDSA(h))
    if form == "der":
        sig = der
    else:
        sig = der_to_raw(der, 48 if k.curve.name == "secp384r1" else 32)
    if mutate:
        sig = mutate(sig)
    return signing_input + "." + b64(sig)


def joserfc_sign(claims, key="a", header=None):
    return jwt.encode(header or {"alg": "ES384", "typ": "JWT"}, claims, ECKey.import_key(keys[key]), algorithms=["ES384"])


def claims(**kw):
    c = {"aws:channel-arn": CHANNEL, "exp": NOW + 300}
    for k, v in kw.items():
        name = {"exp": "exp", "iat": "iat", "nbf": "nbf", "sub": "sub"}.get(k, "aws:" + k.replace("_", "-"))
        if v is None:
            c.pop(name, None)
        else:
            c[name] = v
    return c


HDR = '{"alg":"ES384","typ":"JWT"}'


def payload(**kw):
    return json.dumps(claims(**kw), separators=(",", ":"))


def high_s(tok):
    h, p, s = tok.split(".")
    raw = base64.urlsafe_b64decode(s + "==")
    r, sv = int.from_bytes(raw[:48], "big"), int.from_bytes(raw[48:], "big")
    return h + "." + p + "." + b64(r.to_bytes(48, "big") + (N384 - sv).to_bytes(48, "big"))


def twin_payload(tok, other_payload):
    h, _, s = tok.split(".")
    return h + "." + b64(other_payload.encode()) + "." + s


cases = []


def case(name, token, want, keys=("a", "b"), key_index=None, channel=CHANNEL, leeway=0, note=""):
    c = {"name": name, "token": token, "keys": list(keys), "channel_arn": channel, "leeway_seconds": leeway, "want": want}
    if want == "valid":
        c["key_index"] = 0 if key_index is None else key_index
    if note:
        c["note"] = note
    cases.append(c)


basic = joserfc_sign(claims())
case("joserfc basic", basic, "valid")
case("signed with the second key", joserfc_sign(claims(), key="b"), "valid", key_index=1)
case("third key of three", joserfc_sign(claims(), key="c"), "valid", keys=("a", "b", "c"), key_index=2)
case("every claim", joserfc_sign(claims(
    access_control_allow_origin="https://*.example.com,https://player.example.org:8443",
    strict_origin_enforcement=True, single_use_uuid="8a1f3c9e-3f7b-4b7e-9d2a-5c6f7e8d9a0b",
    viewer_id="viewer-1234", viewer_session_version=3, maximum_resolution="HD", exp=NOW + 540)), "valid")
case("kid and no typ", raw_sign('{"alg":"ES384","kid":"my-key"}', payload()), "valid")
case("typ first, spaces in header", raw_sign('{ "typ" : "JWT" , "alg" : "ES384" }', payload()), "valid")
case("millisecond exp from the AWS Node sample", raw_sign(HDR, payload(exp=(NOW + 3600) * 1000)), "valid")
case("unknown claims iat nbf sub are ignored", joserfc_sign(claims(iat=NOW, nbf=NOW + 3600, sub="u1", custom={"a": [1, 2]})), "valid",
     note="nbf in the future is ignored, as IVS ignores unknown claims")
case("high-S twin of the basic token", high_s(basic), "valid", note="JOSE libraries accept it; single-use must key on the uuid")
case("fractional exp", raw_sign(HDR, '{"aws:channel-arn":"%s","exp":%d.75}' % (CHANNEL, NOW + 60)), "valid")
case("single-use, exp in 9 minutes", joserfc_sign(claims(single_use_uuid="u-1", exp=NOW + 540)), "valid")
case("viewer-id of exactly 40", joserfc_sign(claims(viewer_id="v" * 40, exp=NOW + 600)), "valid")
case("viewer-id of 40 non-ASCII characters", joserfc_sign(claims(viewer_id="é" * 40, exp=NOW + 600)), "valid")
case("six origins without strict enforcement", joserfc_sign(claims(access_control_allow_origin=",".join("https://s%d.example.com" % i for i in range(6)))), "valid")
case("origin star", joserfc_sign(claims(access_control_allow_origin="*", strict_origin_enforcement=True)), "valid")
case("expired within leeway", joserfc_sign(claims(exp=NOW - 10)), "valid", leeway=30)
case("escaped slash in channel ARN", raw_sign(HDR, '{"aws:channel-arn":"%s","exp":%d}' % (CHANNEL.replace("/", "\\/"), NOW + 60)), "valid")
case("unknown typ value tolerated", raw_sign('{"alg":"ES384","typ":"at+jwt"}', payload()), "valid")
case("viewer-session-version negative integer", joserfc_sign(claims(viewer_session_version=-1)), "valid")

case("expired", joserfc_sign(claims(exp=NOW - 192)), "expired")
case("expires exactly now", joserfc_sign(claims(exp=NOW)), "expired")
case("expired beyond leeway", joserfc_sign(claims(exp=NOW - 31)), "expired", leeway=30)
case("channel mismatch", joserfc_sign(claims(channel_arn=OTHER)), "channel_mismatch")
case("channel ARN differs in case", joserfc_sign(claims(channel_arn=CHANNEL.lower())), "channel_mismatch")
case("no exp", joserfc_sign(claims(exp=None)), "missing_claim")
case("no channel", joserfc_sign(claims(channel_arn=None)), "missing_claim")
case("upper-case EXP is not exp", raw_sign(HDR, '{"aws:channel-arn":"%s","EXP":%d}' % (CHANNEL, NOW + 60)), "missing_claim")
case("millisecond exp with viewer-id", raw_sign(HDR, payload(viewer_id="v1", exp=(NOW + 60) * 1000)), "exp_too_far")
case("single-use, exp in 11 minutes", joserfc_sign(claims(single_use_uuid="u-1", exp=NOW + 660)), "exp_too_far")
case("viewer-id, exp in 11 minutes, 30s leeway", joserfc_sign(claims(viewer_id="v", exp=NOW + 660)), "exp_too_far", leeway=30)
case("viewer-id of 41", joserfc_sign(claims(viewer_id="v" * 41, exp=NOW + 60)), "viewer_id_too_long")
case("resolution 4K", joserfc_sign(claims(maximum_resolution="4K")), "bad_maximum_resolution")
case("resolution lower case", joserfc_sign(claims(maximum_resolution="hd")), "bad_maximum_resolution")
case("six origins with strict enforcement", joserfc_sign(claims(
    access_control_allow_origin=",".join("https://s%d.example.com" % i for i in range(6)), strict_origin_enforcement=True)), "too_many_origins")
case("origin without scheme", joserfc_sign(claims(access_control_allow_origin="example.com")), "bad_origin")
case("origin with trailing slash", joserfc_sign(claims(access_control_allow_origin="https://example.com/")), "bad_origin")
case("exp as a string", joserfc_sign(claims(exp=str(NOW + 60))), "bad_claim")
case("viewer-session-version 1.5", joserfc_sign(claims(viewer_session_version=1.5)), "bad_claim")
case("strict-origin-enforcement as a string", joserfc_sign(claims(strict_origin_enforcement="true")), "bad_claim")
case("empty viewer-id", joserfc_sign(claims(viewer_id="")), "bad_claim")
case("channel ARN as a number", joserfc_sign(claims(channel_arn=5)), "bad_claim")

case("DER signature", raw_sign(HDR, payload(), form="der"), "bad_signature_encoding")
case("signature one byte short", raw_sign(HDR, payload(), mutate=lambda s: s[:95]), "bad_signature_encoding")
case("signature r is zero", raw_sign(HDR, payload(), mutate=lambda s: bytes(48) + s[48:]), "bad_signature_encoding")
case("signature s is n", raw_sign(HDR, payload(), mutate=lambda s: s[:48] + N384.to_bytes(48, "big")), "bad_signature_encoding")
case("no signature", b64(HDR.encode()) + "." + b64(payload().encode()) + ".", "bad_signature_encoding")
case("ES256 with a P-256 key", raw_sign('{"alg":"ES256","typ":"JWT"}', payload(), key="p256"), "unsupported_alg")
case("alg none", b64(b'{"alg":"none"}') + "." + b64(payload().encode()) + ".", "unsupported_alg")
case("alg es384 lower case", raw_sign('{"alg":"es384"}', payload()), "unsupported_alg")
case("crit header", raw_sign('{"alg":"ES384","crit":["exp"],"exp":1}', payload()), "bad_header")
case("jwk header", raw_sign('{"alg":"ES384","jwk":{"kty":"EC"}}', payload()), "bad_header")
case("duplicate alg in header", raw_sign('{"alg":"HS384","alg":"ES384"}', payload()), "bad_header")
case("no alg", raw_sign('{"typ":"JWT"}', payload()), "bad_header")
case("kid not a string", raw_sign('{"alg":"ES384","kid":7}', payload()), "bad_header")
case("duplicate exp", raw_sign(HDR, '{"aws:channel-arn":"%s","exp":%d,"exp":%d}' % (CHANNEL, NOW - 100, NOW + 100)), "bad_payload")
case("duplicate channel through an escape", raw_sign(HDR, '{"aws:channel-arn":"%s","aws:channel\\u002darn":"%s","exp":%d}' % (OTHER, CHANNEL, NOW + 60)), "bad_payload")
case("duplicate key nested in an unknown claim", raw_sign(HDR, '{"aws:channel-arn":"%s","exp":%d,"x":{"a":1,"a":2}}' % (CHANNEL, NOW + 60)), "bad_payload")
case("payload is an array", raw_sign(HDR, "[1,2]"), "bad_payload")
case("invalid UTF-8 in payload", raw_sign(HDR, b'{"aws:channel-arn":"' + CHANNEL.encode() + b'","exp":%d,"x":"\xff"}' % (NOW + 60)), "bad_payload")
case("lone surrogate escape", raw_sign(HDR, '{"aws:channel-arn":"%s","exp":%d,"x":"\\ud800"}' % (CHANNEL, NOW + 60)), "bad_payload")
case("trailing garbage after payload object", raw_sign(HDR, payload() + "x"), "bad_payload")
case("signed with a key not given", joserfc_sign(claims(), key="c"), "unknown_key")
case("no keys at all", basic, "unknown_key", keys=())
case("payload changed after signing", twin_payload(basic, payload(exp=NOW + 9999)), "unknown_key")

h, p, s = basic.split(".")
case("padded base64", basic + "==", "malformed")
case("padding inside a part", h + "=." + p + "." + s, "malformed")
case("two parts", h + "." + p, "malformed")
case("five parts (JWE)", ".".join([h, p, s, s, s]), "malformed")
case("line break inside", h + ".\n" + p + "." + s, "malformed")
case("standard base64 alphabet", h + "." + p + ".+" + s[1:], "malformed")
case("empty header part", "." + p + "." + s, "malformed")
case("too long", raw_sign(HDR, payload(sub="x" * 9000)), "malformed")
ALPHA = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
tb = raw_sign(HDR, payload(sub="x"))
th, tp, ts = tb.split(".")
assert len(tp) % 4 in (2, 3)  # the last character carries unused bits
case("non-zero trailing bits", th + "." + tp[:-1] + ALPHA[ALPHA.index(tp[-1]) | 1] + "." + ts, "malformed")
case("empty", "", "malformed")


def pem_private(k, fmt):
    return k.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()


def pem_public(k):
    return k.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


out = {
    "comment": "Generated by gen_vectors.py with joserfc and pyca/cryptography; verdicts written by hand from the IVS rules.",
    "now": NOW,
    "keys": {
        name: {
            "private_pem": pem_private(k, serialization.PrivateFormat.TraditionalOpenSSL if name == "a" else serialization.PrivateFormat.PKCS8),
            "public_pem": pem_public(k),
        }
        for name, k in keys.items()
    },
    "cases": cases,
}
json.dump(out, sys.stdout, indent=1)
sys.stdout.write("\n")
