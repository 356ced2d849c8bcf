package gate

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/playkey/playkey"
)

// Viewers hears of the playback sessions the gate serves, so that viewers can be counted
// (GetStream's viewerCount). SessionSeen is called on every request a session makes that
// the gate admits, the multivariant playlist included; it must be cheap and never block.
type Viewers interface {
	SessionSeen(channel playkey.ARN, session string, at time.Time)
}

// seen tells cfg.Viewers, if any, that sess made an admitted request.
func (g *Gate) seen(sess *session) {
	if g.cfg.Viewers == nil {
		return
	}
	channel := playkey.ARN{Region: sess.Region, Account: sess.Account, Type: playkey.TypeChannel, ID: sess.ChannelID}
	g.cfg.Viewers.SessionSeen(channel, sess.idString(), g.now())
}

// ViewerReporter is the Viewers that records sightings in the store: each session at most
// every playkey.ViewerReportInterval, in one batch a flush, so that a viewer costs the store
// one row write per 15 seconds whatever its request rate. The store counts the sessions of
// the last playkey.ViewerWindow across every gate.
type ViewerReporter struct {
	record func(context.Context, []playkey.ViewerSighting) error
	log    *slog.Logger

	mu       sync.Mutex
	reported map[viewerKey]time.Time // when each session was last queued
	pending  []playkey.ViewerSighting
	dropped  int
}

type viewerKey struct {
	channel playkey.ARN
	session string
}

// maxTrackedViewers bounds the sessions a reporter remembers between flushes: past it, new
// sessions are not counted until the next flush, rather than growing without bound.
const maxTrackedViewers = 200_000

// ViewerFlushInterval is how often a running reporter writes its batch: well within
// playkey.ViewerReportInterval, so that a new view counts within about 15 seconds.
const ViewerFlushInterval = 5 * time.Second

// NewViewerReporter returns a reporter that writes batches with record (a store's
// RecordViewers) and logs failures to log (nil discards).
func NewViewerReporter(record func(context.Context, []playkey.ViewerSighting) error, log *slog.Logger) *ViewerReporter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &ViewerReporter{record: record, log: log, reported: map[viewerKey]time.Time{}}
}

// SessionSeen queues the session unless it was queued within playkey.ViewerReportInterval.
func (v *ViewerReporter) SessionSeen(channel playkey.ARN, session string, at time.Time) {
	k := viewerKey{channel, session}
	v.mu.Lock()
	defer v.mu.Unlock()
	if last, ok := v.reported[k]; ok && at.Sub(last) < playkey.ViewerReportInterval {
		return
	}
	if len(v.reported) >= maxTrackedViewers {
		v.dropped++
		return
	}
	v.reported[k] = at
	v.pending = append(v.pending, playkey.ViewerSighting{Channel: channel, Session: session, At: at})
}

// Flush writes the queued sightings and forgets the sessions queued before now minus
// playkey.ViewerReportInterval. A batch the store refuses is logged and dropped: counts are
// estimates, and the next sighting of each session queues it again.
func (v *ViewerReporter) Flush(ctx context.Context, now time.Time) error {
	v.mu.Lock()
	batch, dropped := v.pending, v.dropped
	v.pending, v.dropped = nil, 0
	for k, at := range v.reported {
		if now.Sub(at) >= playkey.ViewerReportInterval {
			delete(v.reported, k)
		}
	}
	v.mu.Unlock()
	if dropped > 0 {
		v.log.Warn("viewer sessions not counted: too many at once", "sessions", dropped)
	}
	if len(batch) == 0 {
		return nil
	}
	if err := v.record(ctx, batch); err != nil {
		v.log.Warn("recording viewer sessions", "sessions", len(batch), "err", err)
		return err
	}
	return nil
}

// Run flushes every ViewerFlushInterval until ctx ends, then once more.
func (v *ViewerReporter) Run(ctx context.Context) {
	t := time.NewTicker(ViewerFlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			v.Flush(fctx, time.Now())
			cancel()
			return
		case now := <-t.C:
			v.Flush(ctx, now)
		}
	}
}
