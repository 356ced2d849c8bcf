// Package events delivers every stream state change as the event IVS sends to Amazon
// EventBridge ("IVS Stream State Change", "IVS Stream Health Change"), to webhooks.
//
// A Store wraps the store a stream registry writes to: each successful write that carries
// stream events (StartStream, UpdateStream, EndStream) publishes them, so every engine that
// records streams through the store produces events, and the events are the ones
// ListStreamSessions and GetStreamSession show. Webhooks delivers them, signed, retried for a
// bounded time, without ever blocking the writer.
package events

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/playkey/playkey"
)

// Source is the EventBridge source of every IVS event.
const Source = "aws.ivs"

// Event is one event in EventBridge's envelope, with IVS's members: the channel's ARN in
// Resources, the stream's in Detail.
type Event struct {
	Version    string   `json:"version"` // always "0"
	ID         string   `json:"id"`      // a random UUID, one per event
	DetailType string   `json:"detail-type"`
	Source     string   `json:"source"`
	Account    string   `json:"account"`
	Time       string   `json:"time"` // RFC 3339 in UTC to the second, as EventBridge writes it
	Region     string   `json:"region"`
	Resources  []string `json:"resources"`
	Detail     Detail   `json:"detail"`
}

// Detail is an IVS stream event's detail: IVS documents event_name, channel_name and
// stream_id for both detail types.
type Detail struct {
	EventName   string `json:"event_name"`
	ChannelName string `json:"channel_name"`
	StreamID    string `json:"stream_id"`
	// Code is the StreamEvent's code, when it has one. IVS documents code on the model's
	// StreamEvent and says its EventBridge events may carry it; it does not document the
	// member for every event, so it is left out when empty.
	Code string `json:"code,omitempty"`
}

// New returns the EventBridge event of e, an event of the stream id on the channel arn
// named name.
func New(arn playkey.ARN, name, id string, e playkey.StreamEvent) Event {
	return Event{
		Version:    "0",
		ID:         uuid.NewString(),
		DetailType: e.Type,
		Source:     Source,
		Account:    arn.Account,
		Time:       e.Time.UTC().Format(time.RFC3339),
		Region:     arn.Region,
		Resources:  []string{arn.String()},
		Detail:     Detail{EventName: e.Name, ChannelName: name, StreamID: id, Code: e.Code},
	}
}

// Marshal returns the event's JSON, the body a webhook receives.
func (e Event) Marshal() []byte {
	b, err := json.Marshal(e)
	if err != nil {
		panic("events: " + err.Error()) // strings and slices of strings always encode
	}
	return b
}
