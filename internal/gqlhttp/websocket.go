package gqlhttp

import (
	"context"
	"errors"
	"time"

	coderws "github.com/coder/websocket"

	"github.com/99designs/gqlgen/graphql/handler/transport"
)

// CloseForbidden is the WebSocket close code sent when the connection_init
// payload does not authenticate. graphql-transport-ws defines 4403 as
// "Forbidden"; clients such as graphql-ws do not retry it, unlike 1000.
const CloseForbidden = 4403

// Defaults for WebsocketOptions.
const (
	DefaultPingInterval = 25 * time.Second
	DefaultInitTimeout  = 10 * time.Second
)

// AuthFunc authenticates a WebSocket connection from its connection_init
// payload (clients put {"Authorization": "Bearer <JWT>"} there, since browsers
// cannot set headers on a WebSocket). It returns the context that every
// operation on the connection runs with. An error refuses the connection.
type AuthFunc func(ctx context.Context, payload transport.InitPayload) (context.Context, error)

// WebsocketOptions configures NewWebsocket.
type WebsocketOptions struct {
	// Auth authenticates connection_init. When nil every connection is
	// accepted and operations run with the request context.
	Auth AuthFunc
	// OnAuthError, when set, receives the error Auth returned, for logging. The
	// client only learns that it is forbidden: the error text is not sent.
	OnAuthError func(ctx context.Context, err error)
	// AllowedOrigins lists the browser origins, besides the server's own, that
	// may open a WebSocket: "https://app.example.com" (scheme and host, as in
	// the Origin header). Patterns use path.Match syntax and are matched
	// case-insensitively ("https://*.example.com"). Same-origin requests and
	// requests without an Origin header (non-browser clients) are always
	// allowed; any other origin gets 403. The check guards against cross-site
	// WebSocket hijacking, which CORS does not cover.
	AllowedOrigins []string
	// PingInterval is how often the server pings an idle client and, under
	// graphql-transport-ws, how long it waits for the pong (twice the
	// interval) before dropping the connection. 0 means DefaultPingInterval.
	PingInterval time.Duration
	// InitTimeout is how long a client has to send connection_init.
	// 0 means DefaultInitTimeout.
	InitTimeout time.Duration
	// ErrorFunc, when set, receives read and write errors of connections.
	ErrorFunc transport.WebsocketErrorFunc
}

// NewWebsocket returns gqlgen's WebSocket transport, which speaks
// graphql-transport-ws (and the legacy graphql-ws subprotocol), configured
// from opts. A failing Auth closes the connection with CloseForbidden.
func NewWebsocket(opts WebsocketOptions) transport.Websocket {
	ping := opts.PingInterval
	if ping == 0 {
		ping = DefaultPingInterval
	}
	initTimeout := opts.InitTimeout
	if initTimeout == 0 {
		initTimeout = DefaultInitTimeout
	}
	ws := transport.Websocket{
		Implementation: transport.CoderWebsocketImplementation{
			AcceptOptions: coderws.AcceptOptions{
				// coder/websocket always allows the request's own host and
				// matches patterns containing "://" against scheme://host.
				OriginPatterns: opts.AllowedOrigins,
			},
		},
		InitTimeout: initTimeout,
		// graphql-transport-ws: ping, and drop a client that stops answering.
		PingPongInterval: ping,
		// Legacy graphql-ws: send "ka" keep-alive messages.
		KeepAlivePingInterval: ping,
		ErrorFunc:             opts.ErrorFunc,
	}
	if opts.Auth != nil {
		ws.InitFunc = initFunc(opts.Auth, opts.OnAuthError)
	}
	return ws
}

// errForbidden is what gqlgen may show the client when Auth fails (the legacy
// graphql-ws subprotocol sends it in connection_error); the real error stays
// on the server.
var errForbidden = errors.New("forbidden")

// initFunc adapts auth to gqlgen's WebsocketInitFunc. gqlgen closes a
// connection whose InitFunc fails with the code and reason found in the
// returned context, defaulting to 1000, which clients treat as a normal close
// and retry; 4403 tells them the credentials are the problem.
func initFunc(auth AuthFunc, onErr func(context.Context, error)) transport.WebsocketInitFunc {
	return func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		authCtx, err := auth(ctx, payload)
		if err != nil {
			if onErr != nil {
				onErr(ctx, err)
			}
			ctx = transport.WithWebsocketCloseCode(ctx, CloseForbidden)
			ctx = transport.AppendCloseReason(ctx, "Forbidden")
			return ctx, nil, errForbidden
		}
		if authCtx == nil {
			authCtx = ctx
		}
		return authCtx, nil, nil
	}
}
