// The Node recipe of docs/tokens.md: signs an IVS playback authorization token with jose.
//
//   node vend.mjs PRIVATE_KEY.pem CHANNEL_ARN VIEWER_ID
import { createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { SignJWT } from "jose";

// playbackToken signs a token that lets one viewer start playing one private channel
// within the next 5 minutes. exp is in seconds; aws:viewer-id makes the viewer's sessions
// revocable, and IVS then wants exp within 10 minutes.
export async function playbackToken(privateKeyPem, channelArn, viewerId) {
  // createPrivateKey reads both SEC1 ("EC PRIVATE KEY", what openssl ecparam and
  // playkey keygen write) and PKCS#8 PEM.
  const key = createPrivateKey(privateKeyPem);
  return new SignJWT({ "aws:channel-arn": channelArn, "aws:viewer-id": viewerId })
    .setProtectedHeader({ alg: "ES384", typ: "JWT" })
    .setExpirationTime("5m")
    .sign(key);
}

if (process.argv.length !== 5) {
  console.error("usage: node vend.mjs PRIVATE_KEY.pem CHANNEL_ARN VIEWER_ID");
  process.exit(2);
}
const [keyFile, channelArn, viewerId] = process.argv.slice(2);
console.log(await playbackToken(readFileSync(keyFile), channelArn, viewerId));
