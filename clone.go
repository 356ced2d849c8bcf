package playkey

import "maps"

// Stores never share maps and slices with their callers, and never return nil tags: these
// make the copies.

// CloneTags returns a copy of tags, never nil.
func CloneTags(tags map[string]string) map[string]string {
	if tags == nil {
		return map[string]string{}
	}
	return maps.Clone(tags)
}

// Clone returns a copy of c that shares nothing with it.
func (c *Channel) Clone() *Channel {
	out := *c
	out.Tags = CloneTags(c.Tags)
	return &out
}

// Clone returns a copy of p that shares nothing with it; its lists are never nil.
func (p *PlaybackRestrictionPolicy) Clone() *PlaybackRestrictionPolicy {
	out := *p
	out.AllowedCountries = append([]string{}, p.AllowedCountries...)
	out.AllowedOrigins = append([]string{}, p.AllowedOrigins...)
	out.Tags = CloneTags(p.Tags)
	return &out
}

// MergeTags merges tags into cur, replacing the values of keys it already has, as
// TagResource does. It returns Validation, and leaves cur as it was, when the result would
// hold more than MaxTags tags.
func MergeTags(cur, tags map[string]string) error {
	added := 0
	for k := range tags {
		if _, ok := cur[k]; !ok {
			added++
		}
	}
	if n := len(cur) + added; n > MaxTags {
		return Errorf(ErrValidation, "the resource has %d tags and would have %d; a resource has at most %d", len(cur), n, MaxTags)
	}
	maps.Copy(cur, tags)
	return nil
}
