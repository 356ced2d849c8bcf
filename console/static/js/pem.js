// PEM and the little DER the console needs: wrapping keys for download, recognising what
// a pasted PEM is, and turning a SEC1 "EC PRIVATE KEY" into the PKCS#8 WebCrypto imports.

export function bytesToBase64(bytes) {
  let s = '';
  const b = new Uint8Array(bytes);
  for (let i = 0; i < b.length; i += 0x8000) {
    s += String.fromCharCode.apply(null, b.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

export function base64ToBytes(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

// encodePEM writes a block with 64-character lines, as openssl does.
export function encodePEM(type, der) {
  const b64 = bytesToBase64(der);
  const lines = b64.match(/.{1,64}/g) || [];
  return `-----BEGIN ${type}-----\n${lines.join('\n')}\n-----END ${type}-----\n`;
}

// PEMError is a PEM that cannot be used, with a sentence saying why.
export class PEMError extends Error {
  constructor(message) {
    super(message);
    this.name = 'PEMError';
  }
}

// decodePEM returns every block in text: [{type, der, headers}]. Text around blocks is
// ignored, as openssl ignores it.
export function decodePEM(text) {
  const blocks = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  let m;
  while ((m = re.exec(text)) !== null) {
    let body = m[2].replace(/^[ \t]*\r?\n/, '');
    // RFC 1421 headers (Proc-Type, DEK-Info: an encrypted key) end at a blank line.
    const sep = body.search(/\r?\n\r?\n/);
    const headers = /^[A-Za-z-]+: /.test(body) && sep >= 0;
    if (headers) body = body.slice(sep);
    const b64 = body.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) {
      throw new PEMError(`The ${m[1]} block is not valid base64.`);
    }
    blocks.push({ type: m[1], der: base64ToBytes(b64), headers });
  }
  return blocks;
}

// A minimal DER reader: readTLV returns {tag, start, end, next} for the element at off,
// where [start, end) is its content.
function readTLV(der, off) {
  if (off + 2 > der.length) throw new PEMError('The key is truncated.');
  const tag = der[off];
  let len = der[off + 1];
  let start = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3 || start + n > der.length) throw new PEMError('The key has a malformed length.');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i];
    start += n;
  }
  const end = start + len;
  if (end > der.length) throw new PEMError('The key is truncated.');
  return { tag, start, end, next: end };
}

function children(der, el) {
  const out = [];
  for (let off = el.start; off < el.end;) {
    const c = readTLV(der, off);
    out.push(c);
    off = c.next;
  }
  return out;
}

function oidString(der, el) {
  const b = der.subarray(el.start, el.end);
  const parts = [Math.floor(b[0] / 40), b[0] % 40];
  let v = 0;
  for (let i = 1; i < b.length; i++) {
    v = v * 128 + (b[i] & 0x7f);
    if (!(b[i] & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const OID_RSA = '1.2.840.113549.1.1.1';
const OID_ED25519 = '1.3.101.112';
const curves = {
  '1.3.132.0.34': 'P-384',
  '1.2.840.10045.3.1.7': 'P-256',
  '1.3.132.0.35': 'P-521',
  '1.3.132.0.10': 'secp256k1',
};

function curveName(oid) {
  return curves[oid] || `the curve with OID ${oid}`;
}

// P-384 AlgorithmIdentifier: SEQUENCE { ecPublicKey, secp384r1 }.
const P384_ALGORITHM = Uint8Array.from([
  0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
  0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22,
]);

function derLength(n) {
  if (n < 0x80) return [n];
  if (n < 0x100) return [0x81, n];
  return [0x82, n >> 8, n & 0xff];
}

function derElement(tag, content) {
  return Uint8Array.from([tag, ...derLength(content.length), ...content]);
}

// sec1ToPKCS8 wraps a SEC1 ECPrivateKey in a PKCS#8 PrivateKeyInfo for P-384, after
// checking the curve it names (if it names one).
export function sec1ToPKCS8(sec1) {
  const seq = readTLV(sec1, 0);
  if (seq.tag !== 0x30) throw new PEMError('The EC PRIVATE KEY is not a DER sequence.');
  for (const c of children(sec1, seq)) {
    if (c.tag === 0xa0) {
      const oid = readTLV(sec1, c.start);
      if (oid.tag === 0x06) {
        const name = curveName(oidString(sec1, oid));
        if (name !== 'P-384') {
          throw new PEMError(`This is a ${name} key; IVS playback keys are ECDSA P-384 (secp384r1).`);
        }
      }
    }
  }
  const version = Uint8Array.from([0x02, 0x01, 0x00]);
  const octet = derElement(0x04, sec1.subarray(0, seq.end));
  return derElement(0x30, [...version, ...P384_ALGORITHM, ...octet]);
}

// checkPKCS8 refuses a PKCS#8 key that is not EC P-384, saying what it is.
export function checkPKCS8(der) {
  const seq = readTLV(der, 0);
  const [, alg] = children(der, seq);
  if (!alg || alg.tag !== 0x30) throw new PEMError('The PRIVATE KEY is not PKCS#8.');
  const [algOid, param] = children(der, alg);
  const oid = oidString(der, algOid);
  if (oid === OID_RSA) throw new PEMError('This is an RSA key; IVS playback keys are ECDSA P-384.');
  if (oid === OID_ED25519) throw new PEMError('This is an Ed25519 key; IVS playback keys are ECDSA P-384.');
  if (oid !== OID_EC_PUBLIC_KEY) throw new PEMError(`This is not an EC key (algorithm ${oid}); IVS playback keys are ECDSA P-384.`);
  if (param && param.tag === 0x06) {
    const name = curveName(oidString(der, param));
    if (name !== 'P-384') throw new PEMError(`This is a ${name} key; IVS playback keys are ECDSA P-384 (secp384r1).`);
  }
}

// privateKeyPKCS8 finds the private key in pasted PEM text and returns it as PKCS#8 DER,
// or throws a PEMError saying what was found instead.
export function privateKeyPKCS8(text) {
  const blocks = decodePEM(text).filter((b) => b.type !== 'EC PARAMETERS');
  if (blocks.length === 0) {
    throw new PEMError('No PEM block found: expected -----BEGIN PRIVATE KEY----- or -----BEGIN EC PRIVATE KEY-----.');
  }
  if (blocks.length > 1) throw new PEMError(`Found ${blocks.length} PEM blocks; paste one private key.`);
  const [b] = blocks;
  switch (b.type) {
    case 'PRIVATE KEY':
      checkPKCS8(b.der);
      return b.der;
    case 'EC PRIVATE KEY':
      if (b.headers) {
        throw new PEMError('This private key is encrypted; decrypt it first: openssl ec -in priv.pem -out plain.pem');
      }
      return sec1ToPKCS8(b.der);
    case 'ENCRYPTED PRIVATE KEY':
      throw new PEMError('This private key is encrypted; decrypt it first: openssl pkey -in priv.pem -out plain.pem');
    case 'PUBLIC KEY':
      throw new PEMError('This is a public key. Tokens are signed with the private key.');
    case 'OPENSSH PRIVATE KEY':
      throw new PEMError('This is an OpenSSH key; IVS needs an ECDSA P-384 key in PEM (openssl ecparam -name secp384r1 -genkey -noout).');
    case 'RSA PRIVATE KEY':
      throw new PEMError('This is an RSA key; IVS playback keys are ECDSA P-384.');
    default:
      throw new PEMError(`This is a ${b.type} block, not a private key.`);
  }
}
