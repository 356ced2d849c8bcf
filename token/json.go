package token

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// This file is a strict reader for the small JSON objects in a token. encoding/json is not
// used to read tokens because it accepts duplicate keys (the last one wins), matches object
// keys to struct fields case-insensitively ("EXP" would fill exp), and replaces invalid UTF-8
// instead of refusing it. Each of those lets two parsers disagree about what a signed token
// says.

// maxJSONDepth bounds nesting in unknown claims; IVS claims are all scalars.
const maxJSONDepth = 32

// member is one key of a JSON object, decoded, and its value, raw.
type member struct {
	key []byte
	val []byte
}

// parseObject reads data as exactly one JSON object (RFC 8259, UTF-8, whitespace around it
// allowed) and returns its members in order. Every nested value is validated too, and an
// object anywhere that repeats a key, after unescaping, is an error.
func parseObject(data []byte, buf []member) ([]member, error) {
	s := scanner{data: data}
	s.skipSpace()
	if s.pos >= len(data) || data[s.pos] != '{' {
		if s.pos >= len(data) {
			return nil, errors.New("it is empty")
		}
		return nil, fmt.Errorf("it is a JSON %s, not an object", kindOf(data[s.pos:]))
	}
	members, err := s.object(buf, 0)
	if err != nil {
		return nil, err
	}
	s.skipSpace()
	if s.pos != len(data) {
		return nil, fmt.Errorf("unexpected data after the JSON object at byte %d", s.pos)
	}
	return members, nil
}

// validJSONValue reports whether data is exactly one JSON value, with the same strictness.
func validJSONValue(data []byte) error {
	s := scanner{data: data}
	s.skipSpace()
	if err := s.value(0); err != nil {
		return err
	}
	s.skipSpace()
	if s.pos != len(data) {
		return fmt.Errorf("unexpected data after the JSON value at byte %d", s.pos)
	}
	return nil
}

// kindOf names the JSON type of the value that raw starts with, for error messages.
func kindOf(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return "number"
	}
	return "invalid value"
}

type scanner struct {
	data []byte
	pos  int
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func (s *scanner) errorf(format string, args ...any) error {
	return fmt.Errorf("invalid JSON at byte %d: %s", s.pos, fmt.Sprintf(format, args...))
}

func (s *scanner) value(depth int) error {
	if depth > maxJSONDepth {
		return s.errorf("nested more than %d deep", maxJSONDepth)
	}
	if s.pos >= len(s.data) {
		return s.errorf("unexpected end")
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		_, err := s.object(nil, depth)
		return err
	case c == '[':
		return s.array(depth)
	case c == '"':
		_, err := s.str()
		return err
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || ('0' <= c && c <= '9'):
		return s.number()
	default:
		return s.errorf("unexpected character %q", c)
	}
}

// object reads an object starting at '{'. Members are collected into buf only at depth 0;
// nested objects are checked for duplicate keys and then forgotten.
func (s *scanner) object(buf []member, depth int) ([]member, error) {
	s.pos++ // '{'
	members := buf[:0]
	var keys [][]byte // nested objects only
	var seen map[string]struct{}
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return members, nil
	}
	for n := 0; ; n++ {
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return nil, s.errorf("expected a string key")
		}
		keyPos := s.pos
		key, err := s.str()
		if err != nil {
			return nil, err
		}
		// Duplicate keys: a linear scan for the few keys a token has, a map past that.
		dup := false
		if seen != nil {
			_, dup = seen[string(key)]
			seen[string(key)] = struct{}{}
		} else {
			if depth == 0 {
				for _, m := range members {
					if bytes.Equal(m.key, key) {
						dup = true
						break
					}
				}
			} else {
				for _, k := range keys {
					if bytes.Equal(k, key) {
						dup = true
						break
					}
				}
			}
			if n >= 16 {
				seen = make(map[string]struct{}, 2*n)
				for _, m := range members {
					seen[string(m.key)] = struct{}{}
				}
				for _, k := range keys {
					seen[string(k)] = struct{}{}
				}
				seen[string(key)] = struct{}{}
			}
		}
		if dup {
			s.pos = keyPos
			return nil, s.errorf("duplicate key %s", quoteShort(string(key)))
		}
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return nil, s.errorf("expected ':' after a key")
		}
		s.pos++
		s.skipSpace()
		start := s.pos
		if err := s.value(depth + 1); err != nil {
			return nil, err
		}
		if depth == 0 {
			members = append(members, member{key: key, val: s.data[start:s.pos]})
		} else if seen == nil {
			keys = append(keys, key)
		}
		s.skipSpace()
		if s.pos >= len(s.data) {
			return nil, s.errorf("unexpected end inside an object")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return members, nil
		default:
			return nil, s.errorf("expected ',' or '}'")
		}
	}
}

func (s *scanner) array(depth int) error {
	s.pos++ // '['
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		return nil
	}
	for {
		s.skipSpace()
		if err := s.value(depth + 1); err != nil {
			return err
		}
		s.skipSpace()
		if s.pos >= len(s.data) {
			return s.errorf("unexpected end inside an array")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return nil
		default:
			return s.errorf("expected ',' or ']'")
		}
	}
}

func (s *scanner) literal(lit string) error {
	if len(s.data)-s.pos < len(lit) || string(s.data[s.pos:s.pos+len(lit)]) != lit {
		return s.errorf("invalid literal")
	}
	s.pos += len(lit)
	return nil
}

// number checks the RFC 8259 number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() error {
	d := s.data
	i := s.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && '1' <= d[i] && d[i] <= '9':
		digits()
	default:
		return s.errorf("invalid number")
	}
	if i < len(d) && d[i] == '.' {
		i++
		if digits() == 0 {
			return s.errorf("invalid number")
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if digits() == 0 {
			return s.errorf("invalid number")
		}
	}
	// A number beyond the float64 range (1e400) is valid JSON, but JSON readers disagree on
	// it: encoding/json refuses it, JavaScript reads Infinity. Only an exponent or hundreds
	// of digits get there.
	if lit := d[s.pos:i]; i-s.pos > 300 || bytes.ContainsAny(lit, "eE") {
		if _, err := strconv.ParseFloat(string(lit), 64); err != nil {
			return s.errorf("number %s is beyond the range of a double", shortNumber(lit))
		}
	}
	s.pos = i
	return nil
}

// shortNumber shows a number literal in a message, shortened; it has only number characters.
func shortNumber(lit []byte) string {
	if len(lit) > 24 {
		return string(lit[:20]) + "…"
	}
	return string(lit)
}

// str reads a string starting at '"' and returns its decoded bytes. Without escapes the
// result aliases the input; with them it is a new slice. Control characters, invalid UTF-8
// and unpaired surrogate escapes are errors.
func (s *scanner) str() ([]byte, error) {
	s.pos++ // '"'
	start := s.pos
	var out []byte // nil until the first escape
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			if out == nil {
				out = s.data[start:s.pos]
			}
			s.pos++
			return out, nil
		case c < 0x20:
			return nil, s.errorf("control character in a string")
		case c == '\\':
			if out == nil {
				out = append(make([]byte, 0, len(s.data)-start), s.data[start:s.pos]...)
			}
			r, err := s.escape()
			if err != nil {
				return nil, err
			}
			out = utf8.AppendRune(out, r)
		case c < utf8.RuneSelf:
			if out != nil {
				out = append(out, c)
			}
			s.pos++
		default:
			r, size := utf8.DecodeRune(s.data[s.pos:])
			if r == utf8.RuneError && size <= 1 {
				return nil, s.errorf("invalid UTF-8 in a string")
			}
			if out != nil {
				out = append(out, s.data[s.pos:s.pos+size]...)
			}
			s.pos += size
		}
	}
	return nil, s.errorf("unterminated string")
}

// escape reads one escape sequence starting at '\' and returns the rune it stands for.
func (s *scanner) escape() (rune, error) {
	if s.pos+1 >= len(s.data) {
		return 0, s.errorf("unterminated escape")
	}
	c := s.data[s.pos+1]
	s.pos += 2
	switch c {
	case '"', '\\', '/':
		return rune(c), nil
	case 'b':
		return '\b', nil
	case 'f':
		return '\f', nil
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'u':
		r, ok := s.hex4()
		if !ok {
			return 0, s.errorf("invalid \\u escape")
		}
		if 0xDC00 <= r && r <= 0xDFFF {
			return 0, s.errorf("unpaired surrogate in \\u escape")
		}
		if 0xD800 <= r && r <= 0xDBFF {
			if s.pos+1 >= len(s.data) || s.data[s.pos] != '\\' || s.data[s.pos+1] != 'u' {
				return 0, s.errorf("unpaired surrogate in \\u escape")
			}
			s.pos += 2
			lo, ok := s.hex4()
			if !ok || lo < 0xDC00 || lo > 0xDFFF {
				return 0, s.errorf("unpaired surrogate in \\u escape")
			}
			return 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00), nil
		}
		return r, nil
	}
	return 0, s.errorf("invalid escape \\%c", c)
}

func (s *scanner) hex4() (rune, bool) {
	if len(s.data)-s.pos < 4 {
		return 0, false
	}
	var r rune
	for _, c := range s.data[s.pos : s.pos+4] {
		r <<= 4
		switch {
		case '0' <= c && c <= '9':
			r |= rune(c - '0')
		case 'a' <= c && c <= 'f':
			r |= rune(c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	s.pos += 4
	return r, true
}

// decodeString decodes a raw JSON string value that parseObject already validated.
func decodeString(raw []byte) string {
	s := scanner{data: raw}
	b, err := s.str()
	if err != nil {
		return "" // unreachable for validated input
	}
	return string(b)
}

// appendJSONString appends s as a JSON string. It escapes only what JSON requires, so the
// output is as short as possible. s must be valid UTF-8.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// quoteShort quotes s for an error message, shortened so that a message stays readable and a
// hostile claim cannot flood a log line.
func quoteShort(s string) string {
	const max = 80
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return fmt.Sprintf("%q…", s[:cut])
	}
	return fmt.Sprintf("%q", s)
}
