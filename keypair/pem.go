package keypair

import (
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/playkey/playkey"
)

// MaxMaterialSize is the largest publicKeyMaterial accepted, in bytes. A P-384 public key
// PEM is 215 bytes; the cap turns a huge body away before any parsing.
const MaxMaterialSize = 16 << 10

// constraintPrefix starts every rejection, as AWS's own message for bad key material does;
// the specific reason follows it.
const constraintPrefix = "Request member: publicKeyMaterial failed to satisfy the constraints: "

const needP384 = "IVS playback keys must be ECDSA P-384 (secp384r1)"

// ParsePublicKeyPEM parses key material as ImportPlaybackKeyPair accepts it and returns the
// key and its DER SubjectPublicKeyInfo, the input of Fingerprint and what the store keeps.
//
// The material must be exactly one PEM "PUBLIC KEY" block without headers whose DER is a
// SubjectPublicKeyInfo for an ECDSA P-384 key: the id-ecPublicKey algorithm, the named curve
// secp384r1 (not explicit curve parameters) and an uncompressed point on the curve, in the
// canonical DER that "openssl ec -pubout" writes. Line endings (LF or CRLF), the width of
// the base64 lines, blank lines, spaces and tabs in and around lines, whitespace around
// the block, and a leading byte-order mark are free: none of them changes the DER, so none
// changes the fingerprint. Material over MaxMaterialSize bytes is refused unread.
//
// Compressed points are refused although they name the same key, and so is BER or other
// non-canonical DER rather than re-encoded: the fingerprint is the MD5 of the DER as given
// (as AWS and Terraform compute it), and one key must have exactly one DER encoding, hence
// one fingerprint, for the rule that the same key cannot be imported twice to hold. What
// real IVS does with such input is unknown; openssl writes neither by default.
//
// Every failure is a *playkey.Error with code ValidationException whose message starts
// "Request member: publicKeyMaterial failed to satisfy the constraints: " and then says
// what is wrong and, where there is one, the openssl or ssh-keygen command that fixes it.
// Messages never contain key material.
func ParsePublicKeyPEM(material string) (*ecdsa.PublicKey, []byte, error) {
	der, reason := decodePublicKeyPEM(material)
	if reason != "" {
		return nil, nil, invalid(reason)
	}
	pub, reason := parseSPKI(der)
	if reason != "" {
		return nil, nil, invalid(reason)
	}
	return pub, der, nil
}

func invalid(reason string) error {
	return playkey.Errorf(playkey.ErrValidation, "%s%s", constraintPrefix, reason)
}

// asciiSpace is the whitespace allowed around the block and around each line.
const asciiSpace = " \t\r\n\v\f"

// pemBlock is one -----BEGIN ...----- block found while scanning.
type pemBlock struct {
	typ     string
	headers bool
	body    []string // trimmed base64 lines
	ended   bool     // an -----END line was seen
	endOK   bool     // ... and it matches the BEGIN line
	glued   bool     // ... but it shared a line with base64
}

// decodePublicKeyPEM checks the PEM layer and returns the DER of the one PUBLIC KEY block,
// or why the material is refused.
func decodePublicKeyPEM(material string) (der []byte, reason string) {
	if len(material) > MaxMaterialSize {
		return nil, fmt.Sprintf("the key material is %d bytes; at most %d are accepted (a P-384 public key PEM is 215)", len(material), MaxMaterialSize)
	}
	s := strings.Trim(material, asciiSpace)
	s = strings.TrimPrefix(s, "\ufeff") // a byte-order mark, from Windows editors
	s = strings.Trim(s, asciiSpace)
	if s == "" {
		return nil, "empty; expected -----BEGIN PUBLIC KEY-----"
	}

	var (
		blocks                []*pemBlock
		cur                   *pemBlock
		textBefore, textAfter bool
		badBegin              bool
	)
	for line := range strings.SplitSeq(s, "\n") {
		line = strings.Trim(line, asciiSpace)
		if cur == nil {
			if typ, ok := beginLine(line); ok {
				cur = &pemBlock{typ: typ}
				blocks = append(blocks, cur)
				continue
			}
			if line == "" {
				continue
			}
			if strings.Contains(line, "-----BEGIN") {
				badBegin = true
			}
			if len(blocks) == 0 {
				textBefore = true
			} else {
				textAfter = true
			}
			continue
		}
		if i := strings.Index(line, "-----END"); i >= 0 {
			end := "-----END " + cur.typ + "-----"
			cur.ended = true
			cur.glued = i > 0
			cur.endOK = strings.HasPrefix(line[i:], end)
			if cur.endOK && len(line[i:]) > len(end) {
				textAfter = true
			}
			cur = nil
			continue
		}
		if typ, ok := beginLine(line); ok {
			// The previous block has no END line; it stays unended.
			cur = &pemBlock{typ: typ}
			blocks = append(blocks, cur)
			continue
		}
		if line == "" {
			continue
		}
		if len(cur.body) == 0 && strings.Contains(line, ":") {
			// base64 has no ':', so this is an RFC 1421 header such as Proc-Type.
			cur.headers = true
			continue
		}
		cur.body = append(cur.body, line)
	}

	if len(blocks) == 0 {
		return nil, notPEMReason(s, badBegin)
	}
	// A private key anywhere is the thing to tell first, whatever else is wrong.
	for _, b := range blocks {
		if strings.HasSuffix(b.typ, "PRIVATE KEY") {
			return nil, privateKeyReason(b.typ)
		}
	}
	if len(blocks) > 1 {
		return nil, fmt.Sprintf("found %d PEM blocks (%s); give exactly one PUBLIC KEY block", len(blocks), blockTypes(blocks))
	}
	b := blocks[0]
	if b.typ != pemPublicKey {
		return nil, blockTypeReason(b.typ)
	}
	switch {
	case textBefore:
		return nil, "text before the -----BEGIN PUBLIC KEY----- line; give only the PEM block"
	case !b.ended:
		return nil, "no -----END PUBLIC KEY----- line"
	case b.glued:
		return nil, "the -----END PUBLIC KEY----- line shares a line with the base64 text (were line breaks lost?)"
	case !b.endOK:
		return nil, "the -----END line does not match -----BEGIN PUBLIC KEY-----"
	case textAfter:
		return nil, "trailing data after the PEM block"
	case b.headers:
		return nil, "PEM headers (such as Proc-Type) are not allowed in a PUBLIC KEY block"
	case len(b.body) == 0:
		return nil, "the PUBLIC KEY block is empty"
	}

	n := 0
	for _, l := range b.body {
		n += len(l)
	}
	enc := make([]byte, 0, n)
	for _, l := range b.body {
		for i := 0; i < len(l); i++ {
			if c := l[i]; c != ' ' && c != '\t' {
				enc = append(enc, c)
			}
		}
	}
	der = make([]byte, base64.StdEncoding.DecodedLen(len(enc)))
	m, err := base64.StdEncoding.Decode(der, enc)
	if err != nil {
		return nil, "the PUBLIC KEY block is not valid base64"
	}
	return der[:m], ""
}

// beginLine reports whether line is an RFC 7468 BEGIN line and returns its label.
func beginLine(line string) (typ string, ok bool) {
	rest, ok := strings.CutPrefix(line, "-----BEGIN ")
	if !ok {
		return "", false
	}
	typ, ok = strings.CutSuffix(rest, "-----")
	if !ok || strings.Contains(typ, "-") {
		return "", false
	}
	return typ, true
}

// quotable reports whether a PEM label may be quoted back to the user: a few short words
// of capitals and digits, as every real label is. Anything else could be arbitrary input
// (even key material), so it is not repeated.
func quotable(typ string) bool {
	if typ == "" || len(typ) > 40 {
		return false
	}
	for w := range strings.SplitSeq(typ, " ") {
		if w == "" || len(w) > 16 {
			return false
		}
		for i := 0; i < len(w); i++ {
			if c := w[i]; !('A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '#') {
				return false
			}
		}
	}
	return true
}

// pemTypeName returns typ if it is quotable, else a stand-in.
func pemTypeName(typ string) string {
	if quotable(typ) {
		return typ
	}
	return "unrecognised type"
}

func blockTypes(blocks []*pemBlock) string {
	const max = 4
	names := make([]string, 0, max+1)
	for i, b := range blocks {
		if i == max {
			names = append(names, "...")
			break
		}
		names = append(names, pemTypeName(b.typ))
	}
	return strings.Join(names, ", ")
}

func privateKeyReason(typ string) string {
	fix := "openssl pkey -in priv.pem -pubout"
	switch typ {
	case pemECPrivate:
		fix = "openssl ec -in priv.pem -pubout"
	case pemOpenSSHPriv:
		fix = "ssh-keygen -e -m PKCS8 -f id_ecdsa"
	}
	if !quotable(typ) {
		return "this is a private key; import only the public key: " + fix
	}
	return fmt.Sprintf("this is a private key (%s); import only the public key: %s", typ, fix)
}

func blockTypeReason(typ string) string {
	switch typ {
	case "CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE":
		return "this is a certificate; IVS needs the bare public key: extract it with openssl x509 -in cert.pem -pubkey -noout"
	case "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST":
		return "this is a certificate signing request; IVS needs the bare public key: extract it with openssl req -in csr.pem -pubkey -noout"
	case "RSA PUBLIC KEY":
		return "this is an RSA public key (PKCS#1 RSA PUBLIC KEY); " + needP384
	case "EC PUBLIC KEY":
		return "the block is labelled EC PUBLIC KEY; IVS needs a SubjectPublicKeyInfo labelled PUBLIC KEY, as openssl ec -in priv.pem -pubout writes it"
	case pemECParams:
		return "this holds only curve parameters (EC PARAMETERS), no key; expected -----BEGIN PUBLIC KEY-----"
	}
	if !quotable(typ) {
		return "the PEM block has an unrecognised type; expected -----BEGIN PUBLIC KEY-----"
	}
	return fmt.Sprintf("the PEM block is of type %s; expected -----BEGIN PUBLIC KEY-----", typ)
}

// notPEMReason says what material without a single well-formed BEGIN line looks like, for
// the usual mistakes: OpenSSH and JWK keys, DER, base64 without its armour, and PEM whose
// line breaks were lost or escaped on the way.
func notPEMReason(s string, badBegin bool) string {
	if badBegin || strings.Contains(s, "-----BEGIN") {
		if strings.Contains(s, `\n`) || strings.Contains(s, `\r`) {
			return `the key material contains literal \n sequences instead of line breaks; send the PEM text itself`
		}
		return "malformed BEGIN line: expected -----BEGIN PUBLIC KEY----- on a line of its own (were line breaks lost?)"
	}
	switch {
	case s[0] == '{' || s[0] == '[':
		var v any
		if json.Unmarshal([]byte(s), &v) == nil {
			if m, ok := v.(map[string]any); ok && (m["kty"] != nil || m["keys"] != nil) {
				return "this is a JWK (JSON Web Key), not PEM; convert it to a -----BEGIN PUBLIC KEY----- block with a JOSE tool"
			}
			return "this is JSON, not PEM: expected -----BEGIN PUBLIC KEY-----"
		}
	case strings.HasPrefix(s, "---- BEGIN SSH2 PUBLIC KEY ----"):
		return "this is an SSH2 (RFC 4716) public key, not PEM; convert it with ssh-keygen -i -f key.pub > openssh.pub, then ssh-keygen -e -m PKCS8 -f openssh.pub"
	case strings.HasPrefix(s, "PuTTY-User-Key-File-"):
		return "this is a PuTTY key file, which holds a private key; export the OpenSSH public key with puttygen, then convert it with ssh-keygen -e -m PKCS8 -f key.pub"
	}
	if r, ok := openSSHReason(s); ok {
		return r
	}
	if s[0] == 0x30 && isBinary(s) {
		return "this is binary DER, not PEM; convert it with openssl pkey -pubin -inform DER -in public.der -out public.pem"
	}
	if isBase64DER(s) {
		return "this is base64 without the PEM lines; put -----BEGIN PUBLIC KEY----- before it and -----END PUBLIC KEY----- after it, each on its own line"
	}
	return "not PEM: expected -----BEGIN PUBLIC KEY-----"
}

// openSSHReason recognises an OpenSSH public key line ("ecdsa-sha2-nistp384 AAAA... comment").
func openSSHReason(s string) (string, bool) {
	alg, _, ok := strings.Cut(s, " ")
	if !ok {
		return "", false
	}
	switch alg {
	case "ecdsa-sha2-nistp384":
		return "this is an OpenSSH public key (ecdsa-sha2-nistp384), not PEM; convert it with ssh-keygen -e -m PKCS8 -f key.pub", true
	case "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp521", "ssh-rsa", "ssh-dss", "ssh-ed25519", "ssh-ed448",
		"sk-ecdsa-sha2-nistp256@openssh.com", "sk-ssh-ed25519@openssh.com":
		return fmt.Sprintf("this is an OpenSSH public key (%s); %s", alg, needP384), true
	}
	if strings.HasPrefix(alg, "ssh-") || strings.HasPrefix(alg, "ecdsa-sha2-") || strings.HasPrefix(alg, "sk-") {
		return "this is an OpenSSH public key or certificate; " + needP384, true
	}
	return "", false
}

// isBinary reports whether s holds bytes that text does not.
func isBinary(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' && c != '\r' && c != '\n' || c == 0x7f {
			return true
		}
	}
	return false
}

// isBase64DER reports whether s, without whitespace, is base64 of something that starts
// like a DER SEQUENCE.
func isBase64DER(s string) bool {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(asciiSpace, r) {
			return -1
		}
		return r
	}, s)
	b, err := base64.StdEncoding.DecodeString(s)
	return err == nil && len(b) >= 16 && b[0] == 0x30
}
