// Signs and verifies IVS playback tokens with two independent Node JOSE libraries, jose and
// jsonwebtoken, for the Go interoperability test. Reads {"jobs": [...]} on stdin and writes
// {"results": [...]} on stdout, one result per job:
//   {"op": "sign", "lib": "jose"|"jsonwebtoken", "private_pem": "...", "claims": {...}}
//     -> {"token": "..."}
//   {"op": "verify", "lib": "jose"|"jsonwebtoken", "public_pem": "...", "token": "..."}
//     -> {"ok": true, "header": {...}, "payload": {...}} or {"ok": false, "error": "..."}
import { createPrivateKey, createPublicKey } from "node:crypto";
import * as jose from "jose";
import jwt from "jsonwebtoken";

async function run(job) {
  if (job.op === "sign") {
    const key = createPrivateKey(job.private_pem);
    if (job.lib === "jose") {
      const token = await new jose.SignJWT(job.claims)
        .setProtectedHeader({ alg: "ES384", typ: "JWT" })
        .sign(key);
      return { token };
    }
    if (job.lib === "jsonwebtoken") {
      // jsonwebtoken adds iat, an unknown claim to IVS.
      return { token: jwt.sign(job.claims, key, { algorithm: "ES384" }) };
    }
  } else if (job.op === "verify") {
    const key = createPublicKey(job.public_pem);
    try {
      if (job.lib === "jose") {
        const { payload, protectedHeader } = await jose.jwtVerify(job.token, key, { algorithms: ["ES384"] });
        return { ok: true, header: protectedHeader, payload };
      }
      if (job.lib === "jsonwebtoken") {
        const { header, payload } = jwt.verify(job.token, key, { algorithms: ["ES384"], complete: true });
        return { ok: true, header, payload };
      }
    } catch (e) {
      return { ok: false, error: String(e && e.message) };
    }
  }
  throw new Error(`bad job: op ${job.op}, lib ${job.lib}`);
}

let input = "";
for await (const chunk of process.stdin) input += chunk;
const { jobs } = JSON.parse(input);
const results = [];
for (const job of jobs) results.push(await run(job));
process.stdout.write(JSON.stringify({ results }));
