package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// sessionBind is --session-bind: "V4BITS[,V6BITS]", the prefix lengths a session is bound
// to; "" or "0" for none.
type sessionBind struct{ v4, v6 int }

func (b *sessionBind) String() string {
	if b.v4 == 0 && b.v6 == 0 {
		return ""
	}
	return strconv.Itoa(b.v4) + "," + strconv.Itoa(b.v6)
}

func (b *sessionBind) Set(s string) error {
	v4s, v6s, two := strings.Cut(s, ",")
	v4, err := strconv.Atoi(strings.TrimSpace(v4s))
	if err != nil || v4 < 0 || v4 > 32 {
		return fmt.Errorf("%q: want an IPv4 prefix length 0-32, then optionally ,IPv6 prefix length 0-128", s)
	}
	v6 := 64
	if v4 == 0 {
		v6 = 0
	}
	if two {
		if v6, err = strconv.Atoi(strings.TrimSpace(v6s)); err != nil || v6 < 0 || v6 > 128 {
			return fmt.Errorf("%q: the IPv6 prefix length must be 0-128", s)
		}
	}
	b.v4, b.v6 = v4, v6
	return nil
}

// prefixList is a flag of comma-separated CIDR prefixes.
type prefixList []netip.Prefix

func (l *prefixList) String() string {
	s := make([]string, len(*l))
	for i, p := range *l {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

func (l *prefixList) Set(v string) error {
	for f := range strings.SplitSeq(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return fmt.Errorf("%q is not an address or a CIDR prefix", f)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		*l = append(*l, p.Masked())
	}
	return nil
}

// headerList is a repeatable flag of "Name: value" request headers. String shows the
// names only: values may be secrets (MediaMTX's hlsCDNSecret).
type headerList http.Header

func (l *headerList) String() string {
	names := make([]string, 0, len(*l))
	for k := range *l {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

func (l *headerList) Set(v string) error {
	name, value, ok := strings.Cut(v, ":")
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	if !ok || !validHeaderName(name) || strings.ContainsAny(value, "\r\n\x00") {
		return errors.New("want 'Name: value', a valid HTTP header")
	}
	if *l == nil {
		*l = make(headerList)
	}
	http.Header(*l).Add(name, value)
	return nil
}

// validHeaderName reports whether name is an RFC 9110 token.
func validHeaderName(name string) bool {
	return name != "" && strings.IndexFunc(name, func(r rune) bool {
		return r > 0x7e || r <= ' ' || strings.ContainsRune("\"(),/:;<=>?@[\\]{}", r)
	}) < 0
}
