package token

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha512"
	"encoding/asn1"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strings"
	"testing"
)

func TestStrictJSON(t *testing.T) {
	t.Parallel()
	valid := []string{
		`{}`, ` { "a" : 1 } `, `{"a":[1,2,{"b":null}],"c":"\u00e9\ud83d\ude00\n\/"}`,
		`{"a":-0.5e+10,"b":0,"c":1E3,"d":true,"e":false}`, `{"a":{"a":{"a":1}}}`,
		`{"a":1e308,"b":-1.7e308,"c":1e-400,"d":1` + strings.Repeat("0", 300) + `}`,
		`{"a":"é","b":"\u0000"}`, `{"a":1,"A":2}`,
	}
	invalid := []string{
		``, `[]`, `"x"`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{,}`, `{"a":1}x`, `{"a":1}{}`,
		`{'a':1}`, `{a:1}`, `{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":+1}`, `{"a":1e}`,
		`{"a":NaN}`, `{"a":Infinity}`, `{"a":tru}`, `{"a":nul}`, `{"a":"\x"}`, `{"a":"\u12"}`,
		"{\"a\":\"\t\"}", "{\"a\":\"\xff\"}", "{\"a\":\"\xed\xa0\x80\"}", `{"a":"\udc00"}`,
		`{"a":"\ud800x"}`, `{"a":"\ud800\u0041"}`, `{"a":1,"a":2}`, `{"a":1,"\u0061":2}`,
		`{"x":{"b":1,"b":2}}`, `{"x":[{"b":1,"b":2}]}`, "\ufeff{}", `{"a":[1,]}`, `{"a":"x}`,
		`{"a":1 "b":2}`, `{"a":/*c*/1}`,
		// beyond a double: encoding/json refuses them, JavaScript reads Infinity
		`{"exp":1E700}`, `{"a":-1e309}`, `{"x":[1e400]}`, `{"a":1` + strings.Repeat("0", 400) + `}`,
	}
	for _, s := range valid {
		if _, err := parseObject([]byte(s), nil); err != nil {
			t.Errorf("parseObject(%q): %v", s, err)
		}
		if !json.Valid([]byte(s)) {
			t.Errorf("encoding/json says %q is invalid", s)
		}
	}
	for _, s := range invalid {
		if _, err := parseObject([]byte(s), nil); err == nil {
			t.Errorf("parseObject(%q) accepted it", s)
		}
	}
	// Past 16 keys the duplicate check switches to a map; it must still see duplicates,
	// including one of the first 16.
	big := []byte(`{`)
	for i := range 40 {
		big = fmt.Appendf(big, `"k%d":1,`, i)
	}
	ok := append(append([]byte{}, big...), `"z":1}`...)
	dup := append(append([]byte{}, big...), `"k1":1}`...)
	if _, err := parseObject(ok, nil); err != nil {
		t.Error(err)
	}
	if _, err := parseObject(dup, nil); err == nil {
		t.Error("late duplicate of an early key accepted")
	}
	nested := []byte(`{"x":` + string(append(dup[:len(dup)-1:len(dup)-1], '}')) + `}`)
	if _, err := parseObject(nested, nil); err == nil {
		t.Error("nested late duplicate accepted")
	}
	deep := []byte(`{"a":`)
	for range maxJSONDepth + 1 {
		deep = append(deep, '[')
	}
	if _, err := parseObject(deep, nil); err == nil {
		t.Error("deep nesting accepted")
	}
}

func TestAppendJSONString(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "plain", `q"b\`, "\x00\x1f\n\r\t", "é😀\u2028", "</script>"} {
		b := appendJSONString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil || got != s {
			t.Errorf("%q encoded as %s, decoded %q, %v", s, b, got, err)
		}
		if _, err := parseObject([]byte(`{"a":`+string(b)+`}`), nil); err != nil {
			t.Errorf("%s: %v", b, err)
		}
	}
}

func TestFormatSeconds(t *testing.T) {
	t.Parallel()
	for sec, want := range map[int64]string{
		0: "0s", 42: "42s", 60: "1m", 192: "3m12s", 600: "10m", 3600: "1h", 3660: "1h1m",
		47*3600 + 59*60: "47h59m", 2 * 86400: "2d", 17*86400 + 5*3600: "17d5h",
		-192: "3m12s", 56 * 31557600: "56 years", math.MinInt64: "292271023045 years",
	} {
		if got := formatSeconds(sec); got != want {
			t.Errorf("formatSeconds(%d) = %q, want %q", sec, got, want)
		}
	}
}

func TestSatSub(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ a, b, want int64 }{
		{5, 3, 2}, {3, 5, -2}, {math.MaxInt64, -1, math.MaxInt64}, {math.MinInt64, 1, math.MinInt64},
		{0, math.MinInt64, math.MaxInt64}, {-1, math.MaxInt64, math.MinInt64},
	} {
		if got := satSub(c.a, c.b); got != c.want {
			t.Errorf("satSub(%d, %d) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestNumericDate(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]int64{
		"1767225600": 1767225600, "1767225600.99": 1767225600, "-0.5": -1, "1e3": 1000,
		"1e400": math.MaxInt64, "-1e400": math.MinInt64, "9223372036854775808": math.MaxInt64,
		"1767225600000": 1767225600000, "0.0": 0,
	} {
		if got := parseNumericDate([]byte(raw)); got != want {
			t.Errorf("parseNumericDate(%s) = %d, want %d", raw, got, want)
		}
	}
}

// TestDER checks the r||s to DER conversion against encoding/asn1, including values with
// leading zero bytes and with the high bit set.
func TestDER(t *testing.T) {
	t.Parallel()
	key, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	hash := sha512.Sum384([]byte("x"))
	for range 50 {
		der, err := ecdsa.SignASN1(rand.Reader, key, hash[:])
		if err != nil {
			t.Fatal(err)
		}
		if !isDERSignature(der) {
			t.Fatalf("isDERSignature(%x) = false", der)
		}
	}
	for _, r := range []*big.Int{big.NewInt(1), new(big.Int).Sub(elliptic.P384().Params().N, big.NewInt(1))} {
		der, err := asn1.Marshal(struct{ R, S *big.Int }{r, r})
		if err != nil {
			t.Fatal(err)
		}
		if !isDERSignature(der) {
			t.Fatalf("isDERSignature(%x) = false", der)
		}
	}
	if isDERSignature(make([]byte, 96)) || isDERSignature([]byte{0x30, 3, 2, 1, 1}) {
		t.Error("isDERSignature accepted non-DER")
	}
}
