package live

import (
	"context"
	"log/slog"
	"time"

	"github.com/playkey/playkey"
)

// endBatch bounds the timed-out streams ended in one pass; the next pass takes the rest.
const endBatch = 100

// EndTimedOut ends the streams whose ingest stopped reporting for playkey.StreamTimeout (a
// node that crashed, or lost the store), with the events a stream that ends records: Stream
// Failure (IngestLost), Stream End and Session Ended, dated at the last report, which is
// also when the session ends. Through an events.Store, they go to the webhooks as any
// stream's do. Of several nodes ending the same stream, one does (EndStream), so each event
// is recorded and sent once. It returns how many streams it ended.
func EndTimedOut(ctx context.Context, store playkey.Store, log *slog.Logger) int {
	streams, err := store.TimedOutStreams(ctx, endBatch)
	if err != nil {
		log.Warn("ingest: cannot read the streams whose ingest stopped reporting", "err", err)
		return 0
	}
	ended := 0
	for _, st := range streams {
		at := st.SeenAt
		err := store.EndStream(ctx, st.Channel, st.ID, at,
			playkey.StreamEvent{Name: playkey.EventStreamFailure, Type: playkey.EventTypeStateChange, Code: "IngestLost", Time: at},
			playkey.StreamEvent{Name: playkey.EventStreamEnd, Type: playkey.EventTypeStateChange, Time: at},
			playkey.StreamEvent{Name: playkey.EventSessionEnded, Type: playkey.EventTypeStateChange, Time: at})
		switch {
		case err == nil:
			ended++
			log.Info("ingest: ended a stream whose ingest stopped reporting", "channel", st.Channel.String(), "stream_id", st.ID, "last_report", at.UTC().Format(time.RFC3339))
		case playkey.IsCode(err, playkey.ErrChannelNotBroadcasting), playkey.IsCode(err, playkey.ErrResourceNotFound):
			// Another node ended it first, or its channel is gone.
		default:
			log.Warn("ingest: cannot end a stream whose ingest stopped reporting", "channel", st.Channel.String(), "stream_id", st.ID, "err", err)
		}
	}
	return ended
}

// EndTimedOutEvery runs EndTimedOut every interval until ctx ends.
func EndTimedOutEvery(ctx context.Context, store playkey.Store, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			EndTimedOut(ctx, store, log)
		}
	}
}
