package gqlhttp

import (
	"github.com/99designs/gqlgen/graphql/handler"
)

// DefaultMaxBodyBytes is the POST body limit used when Options.MaxBodyBytes is 0.
const DefaultMaxBodyBytes int64 = 1 << 20 // 1 MiB

// Options configures the HTTP transports.
type Options struct {
	// MaxBodyBytes limits the size of a POST body; a larger body gets 413.
	// 0 means DefaultMaxBodyBytes; a negative value disables the limit.
	MaxBodyBytes int64
}

func (o Options) maxBodyBytes() int64 {
	if o.MaxBodyBytes == 0 {
		return DefaultMaxBodyBytes
	}
	return o.MaxBodyBytes
}

// AddTransports adds the WebSocket, GET and POST transports to srv, in that
// order. The order matters: gqlgen picks the first transport that supports a
// request, the WebSocket transport claims only upgrade requests, and POST
// claims every other POST (so that it can answer a wrong Content-Type with 415).
// Any other POST transport (for example multipart uploads) must be added before
// calling AddTransports.
func AddTransports(srv *handler.Server, opts Options, ws WebsocketOptions) {
	srv.AddTransport(NewWebsocket(ws))
	srv.AddTransport(GET{Options: opts})
	srv.AddTransport(POST{Options: opts})
}
