#!/usr/bin/env python3
"""The Python recipe of docs/tokens.md: signs an IVS playback authorization token with joserfc.

    python3 vend.py PRIVATE_KEY.pem CHANNEL_ARN VIEWER_ID
"""

import sys
import time

from joserfc import jwt
from joserfc.jwk import ECKey


def playback_token(private_key_pem, channel_arn, viewer_id):
    """Signs a token that lets one viewer start playing one private channel within the
    next 5 minutes. exp is in seconds; aws:viewer-id makes the viewer's sessions revocable,
    and IVS then wants exp within 10 minutes."""
    key = ECKey.import_key(private_key_pem)  # SEC1 or PKCS#8 PEM
    claims = {
        "aws:channel-arn": channel_arn,
        "aws:viewer-id": viewer_id,
        "exp": int(time.time()) + 5 * 60,
    }
    return jwt.encode({"alg": "ES384", "typ": "JWT"}, claims, key, algorithms=["ES384"])


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: python3 vend.py PRIVATE_KEY.pem CHANNEL_ARN VIEWER_ID")
    with open(sys.argv[1], "rb") as f:
        print(playback_token(f.read(), sys.argv[2], sys.argv[3]))
