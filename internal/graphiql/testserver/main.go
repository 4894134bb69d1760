// Command testserver serves the embedded GraphiQL page next to a stub GraphQL
// endpoint, so web/graphiql/e2e.mjs can check the page in a real browser
// without the real server, Postgres or Redis.
//
// The stub answers every POST with {"data":null,"errors":[{"message":"stub"}]}
// and echoes the Authorization header it received in the error's extensions.
// Over WebSocket (graphql-transport-ws) it acknowledges connection_init and
// answers each subscribe with three "next" messages that carry the
// connection_init payload's Authorization, then "complete". That lets the
// e2e script prove that headers typed in GraphiQL reach both transports.
//
//	go run ./internal/graphiql/testserver -addr 127.0.0.1:8089 [-tls]
//	node web/graphiql/e2e.mjs http://127.0.0.1:8089/graphiql/ --headers '{"Authorization":"Bearer t"}' ...
//
// With -tls it serves HTTPS with a throwaway self-signed certificate (the
// e2e script's --insecure accepts it), to check that subscriptions use wss:.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/gorilla/websocket"

	"github.com/originhub/originhub/internal/graphiql"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8089", "listen address")
	useTLS := flag.Bool("tls", false, "serve HTTPS with a self-signed certificate")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))

	mux := http.NewServeMux()
	mux.Handle("/graphiql/", http.StripPrefix("/graphiql", graphiql.Handler(graphiql.Options{})))
	mux.Handle("GET /{$}", http.RedirectHandler("/graphiql/", http.StatusFound))
	mux.Handle("/graphql", stub{logger: logger})

	if *useTLS {
		// httptest's server brings a ready self-signed certificate for
		// 127.0.0.1, which is all a local browser check needs.
		ln, err := net.Listen("tcp", *addr)
		if err != nil {
			logger.Error("listen", "err", err)
			os.Exit(1)
		}
		srv := httptest.NewUnstartedServer(mux)
		srv.Listener = ln
		srv.StartTLS()
		logger.Info("testserver listening", "url", srv.URL+"/graphiql/")
		select {} // serve until killed
	}
	logger.Info("testserver listening", "url", "http://"+*addr+"/graphiql/")
	if err := http.ListenAndServe(*addr, mux); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Error("serve", "err", err)
		os.Exit(1)
	}
}

type stub struct{ logger *slog.Logger }

func (s stub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if websocket.IsWebSocketUpgrade(r) {
		s.serveWS(w, r)
		return
	}
	var body struct {
		OperationName string `json:"operationName"`
	}
	_ = json.NewDecoder(r.Body).Decode(&body) // the stub answers the same either way
	s.logger.Info("graphql request", "operation", body.OperationName, "has_authorization", r.Header.Get("Authorization") != "")

	stubErr := map[string]any{"message": "stub"}
	if auth := r.Header.Get("Authorization"); auth != "" {
		stubErr["extensions"] = map[string]any{"authorization": auth}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"data": nil, "errors": []any{stubErr}})
}

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func (s stub) serveWS(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{Subprotocols: []string{"graphql-transport-ws"}}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		s.logger.Warn("websocket upgrade", "err", err)
		return
	}
	defer conn.Close()
	if conn.Subprotocol() != "graphql-transport-ws" {
		_ = conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4406, "Subprotocol not acceptable"))
		return
	}

	var initPayload struct {
		Authorization string `json:"Authorization"`
	}
	for {
		var msg wsMessage
		if err := conn.ReadJSON(&msg); err != nil {
			return
		}
		switch msg.Type {
		case "connection_init":
			if len(msg.Payload) > 0 {
				_ = json.Unmarshal(msg.Payload, &initPayload) // a payload without the key is fine
			}
			s.logger.Info("connection_init", "payload", string(msg.Payload))
			if err := conn.WriteJSON(wsMessage{Type: "connection_ack"}); err != nil {
				return
			}
		case "ping":
			if err := conn.WriteJSON(wsMessage{Type: "pong"}); err != nil {
				return
			}
		case "subscribe":
			for i := 1; i <= 3; i++ {
				data, _ := json.Marshal(map[string]any{"data": map[string]any{
					"tick":                        i,
					"connectionInitAuthorization": initPayload.Authorization,
				}})
				if err := conn.WriteJSON(wsMessage{ID: msg.ID, Type: "next", Payload: data}); err != nil {
					return
				}
			}
			if err := conn.WriteJSON(wsMessage{ID: msg.ID, Type: "complete"}); err != nil {
				return
			}
		}
	}
}
