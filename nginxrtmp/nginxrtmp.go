// Package nginxrtmp answers the HTTP callbacks of nginx-rtmp (Debian's libnginx-mod-rtmp),
// so that nginx receives and packages live streams while playkey stays the stream-key
// authority and the registry of live streams, exactly as with the embedded ingest.
//
// nginx-rtmp posts a form for each callback, with call= telling which:
//
//   - publish (on_publish): the stream name is the stream key. A valid key that may go
//     live is answered with a redirect to the channel's own name ({region}_{account}_{channel
//     id}): nginx-rtmp then publishes (and its hls module writes files) under that name, so
//     the key never reaches a file name or a URL a viewer sees. Anything else is 403, which
//     refuses the publish.
//   - update_publish (on_update, with notify_update_strict on): every notify_update_timeout
//     the stream is checked as the embedded ingest checks it; 403 drops the publisher
//     (StopStream, DeleteStreamKey, a deleted channel).
//   - publish_done (on_publish_done): the stream ended.
//
// nginx-rtmp sends the name it was first given with update and done calls (its notify
// context keeps the name from before the redirect: ngx_rtmp_notify_publish stores it
// before the callback), so the streams are found by nginx's clientid, with the key
// checked again.
package nginxrtmp

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/ingest"
	"github.com/playkey/playkey/live"
)

// Config configures Hooks.
type Config struct {
	Authority live.Authority
	// HLSBase is the URL at which gates reach nginx's hls_path, with hls_nested on: a
	// channel's playlist is {HLSBase}/{name}/index.m3u8.
	HLSBase string
	// App is the RTMP application broadcasters publish to; default "app", as IVS.
	App string
	// Secret, when set, must be the callbacks' secret= query parameter; when empty, only
	// callbacks from loopback addresses are taken.
	Secret string
	Logger *slog.Logger
}

// Hooks is the http.Handler nginx-rtmp's on_publish, on_update and on_publish_done point at.
type Hooks struct {
	cfg Config

	mu      sync.Mutex
	streams map[string]*ingest.Stream // by nginx's clientid
}

// maxForm bounds a callback's body: nginx-rtmp's forms are a few hundred bytes.
const maxForm = 16 << 10

// New returns the callbacks' handler.
func New(cfg Config) (*Hooks, error) {
	if cfg.Authority == nil || cfg.HLSBase == "" {
		return nil, errors.New("nginxrtmp: an Authority and an HLSBase are required")
	}
	if cfg.App == "" {
		cfg.App = "app"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.HLSBase = strings.TrimSuffix(cfg.HLSBase, "/")
	return &Hooks{cfg: cfg, streams: make(map[string]*ingest.Stream)}, nil
}

// StreamName is the name a channel's stream has inside nginx: its HLS directory.
func StreamName(ch playkey.ARN) string {
	return ch.Region + "_" + ch.Account + "_" + ch.ID
}

func (h *Hooks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "nginx-rtmp callbacks are POSTed", http.StatusMethodNotAllowed)
		return
	}
	if !live.TrustedCallback(r, h.cfg.Secret) {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "not a form", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	f := r.PostForm
	switch call := f.Get("call"); call {
	case "publish":
		h.publish(ctx, w, f.Get("app"), f.Get("name"), f.Get("clientid"), f.Get("addr"))
	case "update_publish":
		h.update(ctx, w, f.Get("clientid"))
	case "publish_done":
		h.done(ctx, w, f.Get("clientid"))
	case "update":
		// nginx's own sessions (the push into the internal application) have neither a
		// publisher's nor a player's flags: nothing to check.
		w.WriteHeader(http.StatusNoContent)
	case "play", "play_done", "update_play", "done", "connect", "record_done":
		// Viewers play through the gate, never from nginx-rtmp: refuse RTMP playback.
		http.Error(w, "playback is through the gate", http.StatusForbidden)
	default:
		http.Error(w, "unknown call", http.StatusBadRequest)
	}
}

func (h *Hooks) publish(ctx context.Context, w http.ResponseWriter, app, key, clientID, addr string) {
	log := h.cfg.Logger.With("engine", "nginx-rtmp", "addr", addr)
	if app != h.cfg.App {
		log.Warn("ingest: publish refused", "reason", "the application is not "+h.cfg.App)
		http.Error(w, "unknown application", http.StatusForbidden)
		return
	}
	if clientID == "" {
		http.Error(w, "no clientid", http.StatusBadRequest)
		return
	}
	ch, err := h.cfg.Authority.Authorize(ctx, key)
	if err != nil {
		log.Warn("ingest: publish refused", "key", ingest.KeyHash(key), "reason", err.Error())
		http.Error(w, "publish refused", http.StatusForbidden)
		return
	}
	log = log.With("channel", ch.ARN.String(), "stream_key", ch.StreamKey.String())
	h.mu.Lock()
	for _, s := range h.streams {
		if s.Channel.ARN == ch.ARN {
			h.mu.Unlock()
			h.cfg.Authority.Refused(ctx, ch, ingest.ErrAlreadyLive)
			log.Warn("ingest: publish refused", "reason", ingest.ErrAlreadyLive.Error())
			http.Error(w, "the channel is live", http.StatusForbidden)
			return
		}
	}
	s := &ingest.Stream{ID: playkey.NewStreamID(), Channel: ch, StartTime: time.Now().UTC(), Protocol: "rtmp"}
	h.streams[clientID] = s
	h.mu.Unlock()
	name := StreamName(ch.ARN)
	if err := h.cfg.Authority.Start(ctx, s, h.cfg.HLSBase+"/"+name+"/index.m3u8"); playkey.IsCode(err, playkey.ErrConflict) {
		h.forget(clientID)
		h.cfg.Authority.Ended(ctx, s, ingest.ErrAlreadyLive)
		h.cfg.Authority.Refused(ctx, ch, ingest.ErrAlreadyLive)
		log.Warn("ingest: publish refused", "reason", "the channel is live on another node")
		http.Error(w, "the channel is live", http.StatusForbidden)
		return
	} else if err != nil {
		// As with the embedded ingest: the stream goes on and the record is retried at the
		// next update.
		log.Error("ingest: cannot record the live stream; the API and other nodes do not see it yet", "err", err)
	}
	log.Info("ingest: live", "stream_id", s.ID, "name", name)
	// A redirect whose Location is not rtmp:// renames the stream inside nginx-rtmp
	// (ngx_rtmp_notify_publish_handle).
	w.Header().Set("Location", name)
	w.WriteHeader(http.StatusFound)
}

func (h *Hooks) update(ctx context.Context, w http.ResponseWriter, clientID string) {
	h.mu.Lock()
	s := h.streams[clientID]
	h.mu.Unlock()
	if s == nil {
		// Not a stream this process let in (playkey restarted since): drop it, so that its
		// publisher comes back through on_publish.
		http.Error(w, "unknown stream", http.StatusForbidden)
		return
	}
	if err := h.cfg.Authority.Check(ctx, s.Channel); err != nil {
		h.cfg.Logger.Info("ingest: stream stopped", "engine", "nginx-rtmp", "channel", s.Channel.ARN.String(), "stream_id", s.ID, "reason", err.Error())
		http.Error(w, "stream stopped", http.StatusForbidden)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Hooks) done(ctx context.Context, w http.ResponseWriter, clientID string) {
	s := h.forget(clientID)
	if s != nil {
		h.cfg.Authority.Ended(context.WithoutCancel(ctx), s, nil)
		h.cfg.Logger.Info("ingest: stream ended", "engine", "nginx-rtmp", "channel", s.Channel.ARN.String(), "stream_id", s.ID)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Hooks) forget(clientID string) *ingest.Stream {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.streams[clientID]
	delete(h.streams, clientID)
	return s
}

// Close ends every stream the callbacks let in, for a process that stops: nginx drops
// their publishers at their next update.
func (h *Hooks) Close(ctx context.Context) {
	h.mu.Lock()
	streams := h.streams
	h.streams = make(map[string]*ingest.Stream)
	h.mu.Unlock()
	for _, s := range streams {
		h.cfg.Authority.Ended(ctx, s, nil)
	}
}
