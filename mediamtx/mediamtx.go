// Package mediamtx makes playkey the stream-key authority and the registry of live streams
// for a MediaMTX server (bluenviron/mediamtx, v1.18 or later), which receives and packages
// the streams while playkey records them exactly as it records those of its own ingest.
//
// Two channels join them:
//
//   - MediaMTX's HTTP authentication (authMethod: http) posts every publish, read and API
//     request to Engine's handler. A publish is allowed on path {app}/{channel id} with the
//     channel's stream key as the password: RTMP rtmp://host/app/{channel id}?pass={key},
//     SRT streamid publish:app/{channel id}::{key}, RTSP and WHIP with the key as the basic
//     or bearer password. The key is never part of the path, so it never reaches MediaMTX's
//     logs, an HLS URL, or the origin URLs gates fetch and log. Viewers' reads are refused:
//     they play through the gate, which reads MediaMTX's HLS as a CDN (hlsCDNSecret), and
//     such reads skip the authentication. The API is allowed only with the credentials
//     Engine itself uses.
//   - Engine polls MediaMTX's control API (/v3/paths/list) twice a second. A publish it
//     allowed goes live once its path is ready with H.264 (and AAC) tracks; a stream whose
//     path is gone has ended, so a lost callback never leaves a stream LIVE; every stream is
//     checked as the embedded ingest checks it, and StopStream, DeleteStreamKey or a deleted
//     channel kick its publisher through the API (/v3/{rtmpconns,srtconns,...}/kick/{id}).
//     A publisher under {app}/ that this process did not let in (playkey restarted since) is
//     kicked too, so that it comes back through the authentication.
//
// The request and response shapes follow MediaMTX's source: internal/auth/manager.go
// (authenticateHTTP), internal/defs/api_path.go and internal/api/api.go. No Go client for
// them is published (the mediamtx module is an application, not a library), hence the few
// structs here.
package mediamtx

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/ingest"
	"github.com/playkey/playkey/live"
)

// Config configures an Engine.
type Config struct {
	Authority live.Authority
	// API is MediaMTX's control API (apiAddress), e.g. http://127.0.0.1:9997. A user and
	// password in it are sent as basic authentication, and are then the only credentials
	// the callback lets use the API.
	API string
	// HLSBase is where gates reach MediaMTX's HLS server (hlsAddress), e.g.
	// http://127.0.0.1:8888: a channel's playlist is {HLSBase}/{app}/{channel id}/index.m3u8.
	HLSBase string
	// App is the first element of the paths broadcasters publish to; default "app", as IVS.
	App string
	// Secret, when set, must be the callbacks' secret= query parameter; when empty, only
	// callbacks from loopback addresses are taken.
	Secret string
	// PollInterval is how often the control API is read; default 500 ms, so that a
	// StopStream or DeleteStreamKey kicks its publisher within a second, the kick included
	// (the embedded ingest checks its streams as often).
	PollInterval time.Duration
	// ReadyWithin is how long an allowed publish may take to become ready before it is
	// forgotten (and its publisher, if it turns up later, kicked); default 20 s.
	ReadyWithin time.Duration
	Client      *http.Client
	Logger      *slog.Logger
}

// Engine answers MediaMTX's authentication callbacks and follows its paths (Run).
type Engine struct {
	cfg              Config
	api              *url.URL // without its user and password
	apiUser, apiPass string
	log              *slog.Logger

	mu      sync.Mutex
	pending map[string]*allowed // publishes let in, not yet ready; by MediaMTX's connection id
	live    map[string]*stream  // by MediaMTX's connection id
	failing bool                // the control API could not be read at the last poll
}

// allowed is a publish the callback let in.
type allowed struct {
	stream *ingest.Stream
	at     time.Time
}

// stream is a live stream, as the last poll saw its path.
type stream struct {
	stream    *ingest.Stream
	source    pathSource
	inbound   uint64
	lastMedia time.Time
}

// maxBody bounds what is read of a callback (MediaMTX's are a few hundred bytes) and of
// an API answer.
const (
	maxBody    = 64 << 10
	maxAPIBody = 16 << 20
)

// New returns an Engine; Run must be started for streams to go live.
func New(cfg Config) (*Engine, error) {
	if cfg.Authority == nil || cfg.API == "" || cfg.HLSBase == "" {
		return nil, errors.New("mediamtx: an Authority, the API URL and the HLS URL are required")
	}
	api, err := url.Parse(strings.TrimSuffix(cfg.API, "/"))
	if err != nil || (api.Scheme != "http" && api.Scheme != "https") || api.Host == "" {
		// Not repeated: it may hold the API's password.
		return nil, errors.New("mediamtx: the API URL must be http(s)://[user:password@]host:port")
	}
	e := &Engine{cfg: cfg, api: api, pending: make(map[string]*allowed), live: make(map[string]*stream)}
	if api.User != nil {
		e.apiUser = api.User.Username()
		e.apiPass, _ = api.User.Password()
		api.User = nil
	}
	if e.cfg.App == "" {
		e.cfg.App = "app"
	}
	if e.cfg.PollInterval <= 0 {
		e.cfg.PollInterval = 500 * time.Millisecond
	}
	if e.cfg.ReadyWithin <= 0 {
		e.cfg.ReadyWithin = 20 * time.Second
	}
	if e.cfg.Client == nil {
		e.cfg.Client = &http.Client{Timeout: 5 * time.Second}
	}
	if e.cfg.Logger == nil {
		e.cfg.Logger = slog.New(slog.DiscardHandler)
	}
	e.log = e.cfg.Logger.With("engine", "mediamtx")
	e.cfg.HLSBase = strings.TrimSuffix(cfg.HLSBase, "/")
	return e, nil
}

// PathName is the MediaMTX path a channel is published to, and its HLS directory.
func (e *Engine) PathName(ch playkey.ARN) string { return e.cfg.App + "/" + ch.ID }

// authRequest is the body of MediaMTX's authentication callback.
type authRequest struct {
	IP       string `json:"ip"`
	User     string `json:"user"`
	Password string `json:"password"`
	Token    string `json:"token"`
	Action   string `json:"action"` // publish, read, playback, api, metrics, pprof
	Path     string `json:"path"`
	Protocol string `json:"protocol"` // rtsp, rtmp, hls, webrtc, srt
	ID       string `json:"id"`       // the connection or session, as the API names it
}

func (e *Engine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "MediaMTX's authentication requests are POSTed", http.StatusMethodNotAllowed)
		return
	}
	if !live.TrustedCallback(r, e.cfg.Secret) {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	var req authRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&req); err != nil {
		http.Error(w, "not an authentication request", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	switch req.Action {
	case "publish":
		e.publish(ctx, w, &req)
	case "api", "metrics", "pprof":
		if e.apiUser == "" && e.apiPass == "" || !equal(req.User, e.apiUser) || !equal(req.Password, e.apiPass) {
			http.Error(w, "only playkey uses the API", http.StatusForbidden)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case "read", "playback":
		// The gate reads HLS with hlsCDNSecret, which skips authentication: anyone else
		// asking is a viewer going around the gate.
		http.Error(w, "viewers play through the gate", http.StatusForbidden)
	default:
		http.Error(w, "unknown action", http.StatusForbidden)
	}
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func (e *Engine) publish(ctx context.Context, w http.ResponseWriter, req *authRequest) {
	log := e.log.With("addr", req.IP, "protocol", req.Protocol)
	id, ok := strings.CutPrefix(req.Path, e.cfg.App+"/")
	if !ok || id == "" || strings.Contains(id, "/") {
		log.Warn("ingest: publish refused", "reason", "the path is not "+e.cfg.App+"/{channel id}", "path", safePath(req.Path))
		http.Error(w, "publish to "+e.cfg.App+"/{channel id}", http.StatusForbidden)
		return
	}
	if strings.HasPrefix(id, "sk_") {
		log.Warn("ingest: publish refused", "reason", "the stream key is in the path; it goes in the password, the path is "+e.cfg.App+"/{channel id}", "path", safePath(req.Path))
		http.Error(w, "publish to "+e.cfg.App+"/{channel id} with the stream key as the password", http.StatusForbidden)
		return
	}
	key := req.Password
	if key == "" {
		key = req.Token
	}
	if key == "" {
		// RTSP clients send credentials only once asked: 401 asks.
		http.Error(w, "the stream key is the password", http.StatusUnauthorized)
		return
	}
	if req.ID == "" {
		http.Error(w, "no connection id", http.StatusBadRequest)
		return
	}
	ch, err := e.cfg.Authority.Authorize(ctx, key)
	if err != nil {
		log.Warn("ingest: publish refused", "key", ingest.KeyHash(key), "reason", err.Error())
		http.Error(w, "publish refused", http.StatusForbidden)
		return
	}
	log = log.With("channel", ch.ARN.String(), "stream_key", ch.StreamKey.String())
	if ch.ARN.ID != id {
		log.Warn("ingest: publish refused", "reason", "the stream key is not the key of channel "+id)
		http.Error(w, "the stream key is another channel's", http.StatusForbidden)
		return
	}
	e.mu.Lock()
	for _, ls := range e.live {
		if ls.stream.Channel.ARN == ch.ARN {
			e.mu.Unlock()
			e.cfg.Authority.Refused(ctx, ch, ingest.ErrAlreadyLive)
			log.Warn("ingest: publish refused", "reason", ingest.ErrAlreadyLive.Error())
			http.Error(w, "the channel is live", http.StatusForbidden)
			return
		}
	}
	// An earlier publish let in that never became ready is replaced: one publisher a channel.
	for conn, a := range e.pending {
		if a.stream.Channel.ARN == ch.ARN {
			delete(e.pending, conn)
		}
	}
	now := time.Now().UTC()
	e.pending[req.ID] = &allowed{at: now, stream: &ingest.Stream{ID: playkey.NewStreamID(), Channel: ch, StartTime: now, Protocol: req.Protocol}}
	e.mu.Unlock()
	log.Info("ingest: publish allowed", "path", req.Path)
	w.WriteHeader(http.StatusNoContent)
}

// safePath is a refused path as logged: only its first element, since a broadcaster who
// mistook the form may have put the stream key in the rest.
func safePath(p string) string {
	first, _, more := strings.Cut(p, "/")
	if more {
		return first + "/…"
	}
	if strings.HasPrefix(first, "sk_") {
		return "sk_…"
	}
	return first
}

// Stats reports what arrived of a channel's stream: MediaMTX counts the bytes of a path,
// not of its tracks, so all of them count as video.
func (e *Engine) Stats(ch playkey.ARN) (ingest.Stats, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ls := range e.live {
		if ls.stream.Channel.ARN == ch {
			return ingest.Stats{LastMedia: ls.lastMedia, VideoBytes: int64(ls.inbound)}, true
		}
	}
	return ingest.Stats{}, false
}

// Run polls the control API until ctx ends, then ends the streams it recorded live (their
// publishers go on until this process, started again, kicks them).
func (e *Engine) Run(ctx context.Context) {
	t := time.NewTicker(e.cfg.PollInterval)
	defer t.Stop()
	for {
		e.Poll(ctx)
		select {
		case <-ctx.Done():
			e.close()
			return
		case <-t.C:
		}
	}
}

// close ends every stream recorded live.
func (e *Engine) close() {
	e.mu.Lock()
	streams := e.live
	e.live = make(map[string]*stream)
	e.pending = make(map[string]*allowed)
	e.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, ls := range streams {
		e.cfg.Authority.Ended(ctx, ls.stream, errors.New("playkey stopped following MediaMTX"))
	}
}

// Poll reads MediaMTX's paths once and brings the streams up to date with them.
func (e *Engine) Poll(ctx context.Context) {
	paths, err := e.paths(ctx)
	e.mu.Lock()
	wasFailing := e.failing
	e.failing = err != nil
	e.mu.Unlock()
	if err != nil {
		if !wasFailing {
			// One line for a run of failures: MediaMTX down must not fill the log.
			e.log.Warn("ingest: cannot read MediaMTX's paths; streams go on unchecked until it answers", "err", err)
		}
		e.expirePending(time.Now())
		return
	}
	if wasFailing {
		e.log.Info("ingest: MediaMTX's paths can be read again")
	}
	now := time.Now()
	bySource := make(map[string]*path, len(paths))
	for i := range paths {
		p := &paths[i]
		if p.Source != nil && strings.HasPrefix(p.Name, e.cfg.App+"/") {
			bySource[p.Source.ID] = p
		}
	}

	e.mu.Lock()
	var ended []*stream
	var ready []readyPublish
	var unknown []*path
	for conn, ls := range e.live {
		p := bySource[conn]
		if p == nil || !p.Available {
			delete(e.live, conn)
			ended = append(ended, ls)
			continue
		}
		if n := p.Inbound; n != ls.inbound {
			ls.inbound, ls.lastMedia = n, now
		}
	}
	for conn, p := range bySource {
		if e.live[conn] != nil {
			continue
		}
		if a := e.pending[conn]; a != nil {
			if p.Available {
				delete(e.pending, conn)
				ready = append(ready, readyPublish{p, a})
			}
			continue
		}
		unknown = append(unknown, p)
	}
	checks := make(map[string]*stream, len(e.live))
	for conn, ls := range e.live {
		checks[conn] = ls
	}
	e.mu.Unlock()
	e.expirePending(now)

	for _, ls := range ended {
		e.cfg.Authority.Ended(ctx, ls.stream, errors.New("the publisher disconnected"))
		e.log.Info("ingest: stream ended", "channel", ls.stream.Channel.ARN.String(), "stream_id", ls.stream.ID, "duration", time.Since(ls.stream.StartTime).Round(time.Millisecond).String())
	}
	for _, r := range ready {
		e.goLive(ctx, r.path, r.allowed, now)
	}
	for conn, ls := range checks {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := e.cfg.Authority.Check(cctx, ls.stream.Channel)
		cancel()
		if err == nil {
			continue
		}
		e.mu.Lock()
		still := e.live[conn] == ls
		if still {
			delete(e.live, conn)
		}
		e.mu.Unlock()
		if !still {
			continue
		}
		e.kick(ctx, ls.source)
		e.cfg.Authority.Ended(ctx, ls.stream, err)
		e.log.Info("ingest: stream stopped", "channel", ls.stream.Channel.ARN.String(), "stream_id", ls.stream.ID, "reason", err.Error())
	}
	for _, p := range unknown {
		if p.Source.kickPath() == "" {
			continue // a source MediaMTX pulls itself, configured by the operator
		}
		e.log.Warn("ingest: dropping a publisher this playkey did not let in (it comes back through the authentication)", "path", safePath(p.Name), "source", p.Source.Type)
		e.kick(ctx, *p.Source)
	}
}

// readyPublish is an allowed publish whose path became available.
type readyPublish struct {
	path    *path
	allowed *allowed
}

// expirePending forgets the publishes let in that did not become ready in time.
func (e *Engine) expirePending(now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for conn, a := range e.pending {
		if now.Sub(a.at) > e.cfg.ReadyWithin {
			delete(e.pending, conn)
		}
	}
}

// goLive records a publish that became ready live, or refuses it: input that is not
// H.264 and AAC, or a channel live on another node.
func (e *Engine) goLive(ctx context.Context, p *path, a *allowed, now time.Time) {
	s := a.stream
	log := e.log.With("channel", s.Channel.ARN.String(), "stream_id", s.ID)
	if proto := p.Source.protocol(); proto != "" {
		s.Protocol = proto
	}
	video, audio, err := p.tracks()
	if err != nil {
		e.kick(ctx, *p.Source)
		reason := fmt.Errorf("%w: %v", ingest.ErrUnsupported, err)
		e.cfg.Authority.Refused(ctx, s.Channel, reason)
		log.Warn("ingest: publish refused", "reason", reason.Error())
		return
	}
	s.Video, s.Audio = video, audio
	if err := e.cfg.Authority.Start(ctx, s, e.cfg.HLSBase+"/"+p.Name+"/index.m3u8"); playkey.IsCode(err, playkey.ErrConflict) {
		e.kick(ctx, *p.Source)
		e.cfg.Authority.Ended(ctx, s, ingest.ErrAlreadyLive)
		e.cfg.Authority.Refused(ctx, s.Channel, ingest.ErrAlreadyLive)
		log.Warn("ingest: publish refused", "reason", "the channel is live on another node")
		return
	} else if err != nil {
		// As with the embedded ingest: the stream goes on and the record is retried at the
		// next check.
		log.Error("ingest: cannot record the live stream; the API and other nodes do not see it yet", "err", err)
	}
	e.mu.Lock()
	e.live[p.Source.ID] = &stream{stream: s, source: *p.Source, inbound: p.Inbound, lastMedia: now}
	e.mu.Unlock()
	log.Info("ingest: live", "protocol", s.Protocol, "path", p.Name,
		"video", fmt.Sprintf("%s %s %s %dx%d", video.Codec, video.Profile, video.Level, video.Width, video.Height),
		"audio", fmt.Sprintf("%s %dHz %dch", audio.Codec, audio.SampleRate, audio.Channels))
}

// kick disconnects a publisher through the control API.
func (e *Engine) kick(ctx context.Context, src pathSource) {
	kind := src.kickPath()
	if kind == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := e.call(ctx, http.MethodPost, "/v3/"+kind+"/kick/"+url.PathEscape(src.ID), nil)
	if err != nil {
		e.log.Warn("ingest: cannot kick a publisher through MediaMTX's API", "source", src.Type, "err", err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotFound {
		e.log.Warn("ingest: MediaMTX did not kick a publisher", "source", src.Type, "status", resp.StatusCode)
	}
}

func (e *Engine) call(ctx context.Context, method, p string, query url.Values) (*http.Response, error) {
	u := *e.api
	u.Path += p
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, err
	}
	if e.apiUser != "" || e.apiPass != "" {
		req.SetBasicAuth(e.apiUser, e.apiPass)
	}
	return e.cfg.Client.Do(req)
}

// paths reads every path of MediaMTX, page by page.
func (e *Engine) paths(ctx context.Context) ([]path, error) {
	var all []path
	for page := 0; ; page++ {
		resp, err := e.call(ctx, http.MethodGet, "/v3/paths/list", url.Values{"itemsPerPage": {"500"}, "page": {strconv.Itoa(page)}})
		if err != nil {
			return nil, err
		}
		var list pathList
		err = json.NewDecoder(io.LimitReader(resp.Body, maxAPIBody)).Decode(&list)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET /v3/paths/list: %s", resp.Status)
		}
		if err != nil {
			return nil, fmt.Errorf("GET /v3/paths/list: %v", err)
		}
		all = append(all, list.Items...)
		if page+1 >= list.PageCount || page >= 1000 {
			return all, nil
		}
	}
}
