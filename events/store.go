package events

import (
	"context"
	"time"

	"github.com/playkey/playkey"
)

// Publisher takes events for delivery. Publish must not block on the delivery: it is called
// by the writer of the stream records, an ingest's.
type Publisher interface {
	Publish(events ...Event)
}

// Store is a playkey.Store that publishes the stream events of each of its successful
// writes, after the write. Every other method is the wrapped store's.
//
// Each Store method that takes stream events is overridden here by a method that calls the
// wrapped one and then emit: a method added to playkey.Store that records events needs one
// such override.
type Store struct {
	playkey.Store
	pub Publisher
}

// Wrap returns store publishing its stream events to pub.
func Wrap(store playkey.Store, pub Publisher) *Store {
	return &Store{Store: store, pub: pub}
}

func (s *Store) StartStream(ctx context.Context, st *playkey.Stream, events ...playkey.StreamEvent) error {
	err := s.Store.StartStream(ctx, st, events...)
	if err == nil {
		s.emit(ctx, st.Channel, st.ID, events)
	}
	return err
}

func (s *Store) UpdateStream(ctx context.Context, channel playkey.ARN, id string, u playkey.StreamUpdate) (*playkey.Stream, error) {
	st, err := s.Store.UpdateStream(ctx, channel, id, u)
	if err == nil {
		s.emit(ctx, channel, id, u.Events)
	}
	return st, err
}

func (s *Store) EndStream(ctx context.Context, channel playkey.ARN, id string, end time.Time, events ...playkey.StreamEvent) error {
	err := s.Store.EndStream(ctx, channel, id, end, events...)
	if err == nil {
		s.emit(ctx, channel, id, events)
	}
	return err
}

// nameTimeout bounds the read of a channel's name for its events.
const nameTimeout = 5 * time.Second

// emit publishes the events just recorded for the stream id of channel, in their order.
// RecordRefusedStream records a publish refused before it went live: its session's
// events (Session Created, Stream Failure, Session Ended) are sent as any stream's.
func (s *Store) RecordRefusedStream(ctx context.Context, channel playkey.ARN, ss *playkey.StreamSession) error {
	events := append([]playkey.StreamEvent(nil), ss.Events...) // as given, oldest first
	err := s.Store.RecordRefusedStream(ctx, channel, ss)
	if err == nil {
		s.emit(ctx, channel, ss.ID, events)
	}
	return err
}

func (s *Store) emit(ctx context.Context, channel playkey.ARN, id string, events []playkey.StreamEvent) {
	if len(events) == 0 {
		return
	}
	// The channel's name cannot change while it is live (UpdateChannel refuses), so the name
	// read now is the stream's. A channel deleted meanwhile leaves it empty: the events are
	// still worth delivering.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), nameTimeout)
	defer cancel()
	var name string
	if ch, err := s.Store.Channel(ctx, channel); err == nil {
		name = ch.Name
	}
	out := make([]Event, len(events))
	for i, e := range events {
		out[i] = New(channel, name, id, e)
	}
	s.pub.Publish(out...)
}
