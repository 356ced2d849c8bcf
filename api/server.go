// Package api serves the Amazon IVS control-plane API (rest-json, SigV4-signed) over a
// playkey.Store, so that real AWS CLIs and SDKs work against playkey unchanged.
//
// Every request is authenticated, routed by a static table, decoded strictly, checked against
// every constraint of the IVS service model (clients may skip validation), and answered in
// AWS's shape: errors carry x-amzn-ErrorType and a JSON body with message and
// exceptionMessage, and every response carries x-amzn-RequestId.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/internal/accesslog"
	"github.com/playkey/playkey/internal/httppath"
)

// Caller is the authenticated identity behind a request: the account comes from the
// credential, the region from the signature's credential scope.
type Caller struct {
	AccessKeyID string
	Account     string
	Region      string
}

// Scope returns the caller's account and region.
func (c Caller) Scope() playkey.Scope { return playkey.Scope{Account: c.Account, Region: c.Region} }

// Authenticator checks a request's signature. It may read r.Body, but must leave an
// equivalent body in its place. Its errors should be *playkey.Error with an AWS
// authentication code (see statusOf); any other error is answered 403.
type Authenticator interface {
	Authenticate(r *http.Request) (Caller, error)
}

// Config configures the API handler.
type Config struct {
	Store playkey.Store
	Auth  Authenticator
	// Logger receives one line per request; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxBodyBytes caps request bodies; 0 means 1 MiB.
	MaxBodyBytes int64
	// TokenLeeway is the clock leeway VerifyPlaybackToken allows on exp: the gate's, so that
	// both give the same verdict.
	TokenLeeway time.Duration
	// PlaybackURL is the public base URL of the playback gate, without a trailing slash
	// (one is removed): a channel's playbackUrl is
	// {PlaybackURL}/api/video/v1/{region}.{account}.channel.{id}.m3u8. Empty means
	// DefaultPlaybackURL.
	PlaybackURL string
	// IngestEndpoint and SRTEndpoint, when set, are every channel's ingestEndpoint and
	// srt.endpoint: where clients reach this deployment's ingest (HOST or HOST:PORT).
	// Empty gives IVS's form, {hex}.global-contribute.live-video.net and
	// {hex}.srt.live-video.net, per account.
	IngestEndpoint, SRTEndpoint string
	// StreamStopper, when set, disconnects publishers on StopStream at once (see
	// StreamStopper); nil leaves it to the store's mark alone.
	StreamStopper StreamStopper
}

// DefaultPlaybackURL is the playback gate's base URL at its default address.
const DefaultPlaybackURL = "http://127.0.0.1:8081"

// Server is the IVS API as an http.Handler.
type Server struct {
	store       playkey.Store
	auth        Authenticator
	log         *slog.Logger
	now         func() time.Time
	maxBody     int64
	tokenLeeway time.Duration
	mux         *http.ServeMux
	secret      secretCache
	// playbackURL is Config.PlaybackURL, defaulted, without a trailing slash.
	playbackURL string

	stopper     StreamStopper
	ingest, srt string // Config.IngestEndpoint, Config.SRTEndpoint
	metrics     *metrics
}

// New returns the API handler.
func New(cfg Config) *Server {
	s := &Server{
		store:       cfg.Store,
		auth:        cfg.Auth,
		log:         cfg.Logger,
		now:         cfg.Now,
		maxBody:     cfg.MaxBodyBytes,
		tokenLeeway: cfg.TokenLeeway,
		mux:         http.NewServeMux(),

		playbackURL: strings.TrimSuffix(cfg.PlaybackURL, "/"),

		stopper: cfg.StreamStopper,
		ingest:  cfg.IngestEndpoint,
		srt:     cfg.SRTEndpoint,
		metrics: newMetrics(),
	}
	if s.playbackURL == "" {
		s.playbackURL = DefaultPlaybackURL
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.maxBody <= 0 {
		s.maxBody = 1 << 20
	}
	s.routes()
	return s
}

// An operation handles one API call for an authenticated caller. It returns the response
// body (marshalled as JSON; nil for an empty body) or an error.
type operation func(ctx context.Context, c Caller, r *http.Request) (any, error)

// route is one row of the static route table.
type route struct {
	pattern string // a ServeMux pattern
	name    string // the IVS operation name, for logs
	status  int    // the success status from the model
	op      operation
}

func (s *Server) routes() {
	table := []route{
		{"POST /ImportPlaybackKeyPair", "ImportPlaybackKeyPair", http.StatusOK, s.importPlaybackKeyPair},
		{"POST /GetPlaybackKeyPair", "GetPlaybackKeyPair", http.StatusOK, s.getPlaybackKeyPair},
		{"POST /ListPlaybackKeyPairs", "ListPlaybackKeyPairs", http.StatusOK, s.listPlaybackKeyPairs},
		{"POST /DeletePlaybackKeyPair", "DeletePlaybackKeyPair", http.StatusOK, s.deletePlaybackKeyPair},

		{"POST /CreateChannel", "CreateChannel", http.StatusOK, s.createChannel},
		{"POST /GetChannel", "GetChannel", http.StatusOK, s.getChannel},
		{"POST /BatchGetChannel", "BatchGetChannel", http.StatusOK, s.batchGetChannel},
		{"POST /ListChannels", "ListChannels", http.StatusOK, s.listChannels},
		{"POST /UpdateChannel", "UpdateChannel", http.StatusOK, s.updateChannel},
		{"POST /DeleteChannel", "DeleteChannel", http.StatusNoContent, s.deleteChannel},

		{"POST /CreateStreamKey", "CreateStreamKey", http.StatusOK, s.createStreamKey},
		{"POST /GetStreamKey", "GetStreamKey", http.StatusOK, s.getStreamKey},
		{"POST /BatchGetStreamKey", "BatchGetStreamKey", http.StatusOK, s.batchGetStreamKey},
		{"POST /ListStreamKeys", "ListStreamKeys", http.StatusOK, s.listStreamKeys},
		{"POST /DeleteStreamKey", "DeleteStreamKey", http.StatusNoContent, s.deleteStreamKey},

		{"POST /CreatePlaybackRestrictionPolicy", "CreatePlaybackRestrictionPolicy", http.StatusOK, s.createPlaybackRestrictionPolicy},
		{"POST /GetPlaybackRestrictionPolicy", "GetPlaybackRestrictionPolicy", http.StatusOK, s.getPlaybackRestrictionPolicy},
		{"POST /ListPlaybackRestrictionPolicies", "ListPlaybackRestrictionPolicies", http.StatusOK, s.listPlaybackRestrictionPolicies},
		{"POST /UpdatePlaybackRestrictionPolicy", "UpdatePlaybackRestrictionPolicy", http.StatusOK, s.updatePlaybackRestrictionPolicy},
		{"POST /DeletePlaybackRestrictionPolicy", "DeletePlaybackRestrictionPolicy", http.StatusNoContent, s.deletePlaybackRestrictionPolicy},

		{"POST /StartViewerSessionRevocation", "StartViewerSessionRevocation", http.StatusOK, s.startViewerSessionRevocation},
		{"POST /BatchStartViewerSessionRevocation", "BatchStartViewerSessionRevocation", http.StatusOK, s.batchStartViewerSessionRevocation},

		{"POST /GetStream", "GetStream", http.StatusOK, s.getStream},
		{"POST /ListStreams", "ListStreams", http.StatusOK, s.listStreams},
		{"POST /StopStream", "StopStream", http.StatusOK, s.stopStream},
		{"POST /GetStreamSession", "GetStreamSession", http.StatusOK, s.getStreamSession},
		{"POST /ListStreamSessions", "ListStreamSessions", http.StatusOK, s.listStreamSessions},
		{"POST /PutMetadata", "PutMetadata", http.StatusNoContent, s.putMetadata},

		{"POST /playkey/VerifyPlaybackToken", "VerifyPlaybackToken", http.StatusOK, s.verifyPlaybackToken},

		// The SDKs percent-encode the whole ARN, '/' included; ServeMux unescapes each path
		// segment, and {arn...} also takes an ARN whose '/' was sent bare.
		{"POST /tags/{arn...}", "TagResource", http.StatusOK, s.tagResource},
		{"DELETE /tags/{arn...}", "UntagResource", http.StatusOK, s.untagResource},
		{"GET /tags/{arn...}", "ListTagsForResource", http.StatusOK, s.listTagsForResource},
	}
	for _, rt := range table {
		s.mux.Handle(rt.pattern, s.handle(rt))
	}
	s.mux.HandleFunc("/", s.unknownOperation)
	// Without it ServeMux redirects /tags to /tags/.
	s.mux.HandleFunc("/tags", s.unknownOperation)
}

// ServeHTTP authenticates the request and dispatches it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	rec := accesslog.NewRecorder(w)
	rec.Header().Set("x-amzn-RequestId", uuid.NewString()) // a random UUID, the form of AWS request ids
	info := &requestInfo{op: "-"}
	r = r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info))

	defer func() {
		if v := recover(); v != nil {
			s.log.Error("panic serving request", "op", info.op, "panic", v)
			if !rec.Wrote {
				s.writeError(rec, r, playkey.Errorf(playkey.ErrInternal, "internal error"))
			}
		}
		latency := s.now().Sub(start)
		s.metrics.observe(info.op, rec.Status, latency)
		s.log.Info("request",
			"op", info.op,
			"account", info.caller.Account,
			"region", info.caller.Region,
			"status", rec.Status,
			"latency", latency.Round(time.Microsecond),
			"request_id", rec.Header().Get("x-amzn-RequestId"),
		)
	}()

	r.Body = http.MaxBytesReader(rec, r.Body, s.maxBody)
	caller, err := s.auth.Authenticate(r)
	if err != nil {
		s.metrics.authFailed(err)
		s.writeError(rec, r, err)
		return
	}
	info.caller = caller
	if p := r.URL.EscapedPath(); r.Method != http.MethodConnect && !httppath.IsClean(p) {
		// ServeMux would answer a redirect to the cleaned path, which no AWS client
		// follows usefully: no IVS operation has such a path.
		s.unknownOperation(rec, r)
		return
	}
	s.mux.ServeHTTP(rec, r)
}

func (s *Server) handle(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := r.Context().Value(requestInfoKey{}).(*requestInfo)
		info.op = rt.name
		out, err := rt.op(r.Context(), info.caller, r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, rt.status, out)
	})
}

func (s *Server) unknownOperation(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, &playkey.Error{Code: errUnknownOperation, Message: "no IVS operation at " + r.Method + " " + r.URL.EscapedPath()})
}

type requestInfoKey struct{}

// requestInfo carries what the access log needs from the inner handlers.
type requestInfo struct {
	op     string
	caller Caller
}
