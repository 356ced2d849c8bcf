package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// keyUseMetric is the gate's metric of when each key pair last verified a token.
const keyUseMetric = "playkey_gate_key_pair_last_verified_timestamp_seconds"

// maxMetricsBytes bounds a scraped /metrics page.
const maxMetricsBytes = 16 << 20

// lastVerified scrapes a gate's /metrics at url and returns when the key pair arn last
// verified a token there; the zero time when it has not since the gate started.
func lastVerified(ctx context.Context, client *http.Client, url, arn string) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return time.Time{}, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := client.Do(req)
	if err != nil {
		return time.Time{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return time.Time{}, fmt.Errorf("%s answered %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(io.LimitReader(resp.Body, maxMetricsBytes))
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", url, err)
	}
	if _, ok := families["playkey_gate_decisions_total"]; !ok {
		return time.Time{}, fmt.Errorf("%s has no playkey_gate_decisions_total: not a playkey gate's metrics", url)
	}
	for _, m := range families[keyUseMetric].GetMetric() { // no family: no key verified yet
		for _, l := range m.GetLabel() {
			if l.GetName() == "key_pair_arn" && l.GetValue() == arn {
				sec, frac := math.Modf(m.GetGauge().GetValue())
				return time.Unix(int64(sec), int64(frac*1e9)), nil
			}
		}
	}
	return time.Time{}, nil
}

// waitUnused waits until the key pair arn has verified no token for idle on any of the
// gates whose /metrics are at urls, counting from start at the earliest (a key no gate has
// seen since then has been unused since then). A gate that cannot be read holds the wait:
// its viewers may be using the key.
func waitUnused(ctx context.Context, std *stdio, urls []string, arn string, start time.Time, idle time.Duration) error {
	client := &http.Client{}
	poll := min(max(idle/4, 200*time.Millisecond), 15*time.Second)
	failing := map[string]string{}
	for {
		last := start
		readAll := true
		for _, u := range urls {
			t, err := lastVerified(ctx, client, u, arn)
			if err != nil {
				readAll = false
				if msg := err.Error(); failing[u] != msg {
					fmt.Fprintf(std.err, "cannot read %s (waiting until it can be read): %v\n", u, err)
					failing[u] = msg
				}
				continue
			}
			if failing[u] != "" {
				fmt.Fprintf(std.err, "reading %s again\n", u)
				delete(failing, u)
			}
			if t.After(last) {
				last = t
			}
		}
		if readAll && time.Since(last) >= idle {
			return nil
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
