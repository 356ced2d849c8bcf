package playkey

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Snapshot is everything a store holds, with what identifies each resource (ARNs, creation
// times, tags, revocation sequence numbers), so that one store can be copied into another
// without loss: the SQLite and PostgreSQL stores export one, and PostgreSQL imports one.
// Stores fill it in any order; Diff compares two regardless of order.
type Snapshot struct {
	KeyPairs    []*KeyPair
	Policies    []*PlaybackRestrictionPolicy
	Channels    []*Channel
	StreamKeys  []*StreamKey
	Revocations []*Revocation
	// LastRevocationSeq is the revocation counter: the highest Seq ever handed out, which
	// may be above every Seq in Revocations when revocations went with their channel.
	// Pollers may have seen it, so a copy must not hand it out again.
	LastRevocationSeq int64
	SingleUses        []SingleUseRecord
	Secrets           map[string][]byte
	// Streams are the stream sessions of every channel, ended or live.
	Streams []*StreamRecord
}

// StreamRecord is a stream session as a store keeps it: the session, whether it is a
// refused publish's (RecordRefusedStream), and what its ingest last reported, which makes
// a session without an EndTime its channel's live stream until StreamTimeout after SeenAt.
type StreamRecord struct {
	Channel  ARN
	Session  StreamSession
	Refused  bool
	Health   string
	Origin   string
	Stopping bool
	SeenAt   time.Time
}

// SingleUseRecord is the recorded use of a single-use playback token.
type SingleUseRecord struct {
	Scope   Scope
	UUID    string
	Expires time.Time
}

// Count returns how many items of each kind s holds, in a fixed order, for reports.
func (s *Snapshot) Count() []KindCount {
	return []KindCount{
		{"playback key pairs", len(s.KeyPairs)},
		{"playback restriction policies", len(s.Policies)},
		{"channels", len(s.Channels)},
		{"stream keys", len(s.StreamKeys)},
		{"viewer revocations", len(s.Revocations)},
		{"single-use token records", len(s.SingleUses)},
		{"secrets", len(s.Secrets)},
		{"stream sessions", len(s.Streams)},
	}
}

// KindCount is a number of items of one kind.
type KindCount struct {
	Kind string
	N    int
}

// Diff describes how other differs from s, one line per item: first the items both hold
// that differ, then those only other holds, then those only s holds; at most limit lines
// (all when limit <= 0). A line names the item and the fields that differ, never their
// values, which may be secret. Times count to the millisecond, and a nil map or slice
// equals an empty one. No difference gives no lines.
func (s *Snapshot) Diff(other *Snapshot, limit int) []string {
	var differ, onlyOther, onlyS []string
	a, b := s.canonical(), other.canonical()
	for _, kind := range slices.Sorted(maps.Keys(a)) {
		for _, key := range slices.Sorted(maps.Keys(a[kind])) {
			vb, ok := b[kind][key]
			if !ok {
				onlyS = append(onlyS, fmt.Sprintf("%s %s: only in the first", kind, key))
				continue
			}
			var fields []string
			for _, f := range slices.Sorted(maps.Keys(a[kind][key])) {
				if a[kind][key][f] != vb[f] {
					fields = append(fields, f)
				}
			}
			switch len(fields) {
			case 0:
			case 1:
				differ = append(differ, fmt.Sprintf("%s %s: %s differs", kind, key, fields[0]))
			default:
				differ = append(differ, fmt.Sprintf("%s %s: %s differ", kind, key, strings.Join(fields, ", ")))
			}
		}
	}
	for _, kind := range slices.Sorted(maps.Keys(b)) {
		for _, key := range slices.Sorted(maps.Keys(b[kind])) {
			if _, ok := a[kind][key]; !ok {
				onlyOther = append(onlyOther, fmt.Sprintf("%s %s: only in the second", kind, key))
			}
		}
	}
	out := slices.Concat(differ, onlyOther, onlyS)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

// canonical returns every item of s as kind -> identity -> field -> a canonical text of
// the field's value.
func (s *Snapshot) canonical() map[string]map[string]map[string]string {
	m := map[string]map[string]map[string]string{}
	put := func(kind, key string, v any) {
		if m[kind] == nil {
			m[kind] = map[string]map[string]string{}
		}
		fields := map[string]string{}
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Struct {
			fields["value"] = fmt.Sprintf("%+v", v)
		} else {
			for i := range rv.NumField() {
				if f := rv.Type().Field(i); f.IsExported() {
					fields[f.Name] = fmt.Sprintf("%+v", rv.Field(i).Interface())
				}
			}
		}
		m[kind][key] = fields
	}
	for _, k := range s.KeyPairs {
		c := *k
		c.Tags, c.CreatedAt = CloneTags(k.Tags), millis(k.CreatedAt)
		c.PublicKeyDER = append([]byte{}, k.PublicKeyDER...)
		put("playback key pair", k.ARN.String(), c)
	}
	for _, p := range s.Policies {
		c := p.Clone()
		c.CreatedAt = millis(p.CreatedAt)
		put("playback restriction policy", p.ARN.String(), *c)
	}
	for _, c := range s.Channels {
		cc := c.Clone()
		cc.CreatedAt = millis(c.CreatedAt)
		put("channel", c.ARN.String(), *cc)
	}
	for _, k := range s.StreamKeys {
		kc := *k
		kc.Tags, kc.CreatedAt = CloneTags(k.Tags), millis(k.CreatedAt)
		put("stream key", k.ARN.String(), kc)
	}
	for _, r := range s.Revocations {
		rc := *r
		rc.UpdatedAt = millis(r.UpdatedAt)
		put("viewer revocation", r.Channel.String()+" viewer "+r.ViewerID, rc)
	}
	put("revocation counter", "viewer_revocations", s.LastRevocationSeq)
	for _, u := range s.SingleUses {
		u.Expires = millis(u.Expires)
		put("single-use token", u.Scope.Account+"/"+u.Scope.Region+"/"+u.UUID, u)
	}
	for name, v := range s.Secrets {
		put("secret", name, fmt.Sprintf("%x", v))
	}
	for _, r := range s.Streams {
		put("stream session", r.Channel.String()+" stream "+r.Session.ID, r.canonical())
	}
	return m
}

// streamCanon is a StreamRecord with its session in a canonical text (JSON, which follows
// the pointer to the session's channel and sorts its tags).
type streamCanon struct {
	Session                string
	Refused, Stopping      bool
	Health, Origin, SeenAt string
}

func (r *StreamRecord) canonical() streamCanon {
	ss := r.Session
	ss.StartTime, ss.EndTime = millis(ss.StartTime), millis(ss.EndTime)
	if r.Session.EndTime.IsZero() {
		ss.EndTime = time.Time{}
	}
	if r.Session.Channel != nil {
		ss.Channel = r.Session.Channel.Clone()
		ss.Channel.CreatedAt = millis(ss.Channel.CreatedAt)
	}
	ss.Events = slices.Clone(r.Session.Events)
	for i := range ss.Events {
		ss.Events[i].Time = millis(ss.Events[i].Time)
	}
	ss.NonNil()
	b, err := json.Marshal(ss)
	if err != nil {
		b = []byte(err.Error())
	}
	return streamCanon{Session: string(b), Refused: r.Refused, Stopping: r.Stopping, Health: r.Health, Origin: r.Origin,
		SeenAt: millis(r.SeenAt).Format(time.RFC3339Nano)}
}

// millis truncates t to the millisecond, as stores keep it.
func millis(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }
