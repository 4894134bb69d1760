package gqlhttp_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/originhub/originhub/internal/gqlhttp"
	"github.com/originhub/originhub/internal/gqlhttp/internal/testschema"
)

// wsDeadline bounds every read, so that a broken server fails the test
// instead of hanging it.
const wsDeadline = 5 * time.Second

var errBadToken = errors.New("token rejected: signature invalid")

// testAuth accepts "Bearer good" and puts viewer alice in the context.
func testAuth(ctx context.Context, payload transport.InitPayload) (context.Context, error) {
	if payload.Authorization() != "Bearer good" {
		return nil, errBadToken
	}
	return testschema.WithViewer(ctx, "alice"), nil
}

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// wsServer starts the test handler on a real listener and returns its ws URL.
func wsServer(t *testing.T, opts gqlhttp.WebsocketOptions) (wsURL string) {
	t.Helper()
	srv := httptest.NewServer(newHandler(t, gqlhttp.Options{}, opts))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/graphql"
}

func dial(t *testing.T, wsURL string, header http.Header) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: wsDeadline}
	conn, resp, err := d.Dial(wsURL, header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial: %v (status %d)", err, status)
	}
	t.Cleanup(func() { conn.Close() })
	if got := conn.Subprotocol(); got != "graphql-transport-ws" {
		t.Fatalf("subprotocol = %q, want graphql-transport-ws", got)
	}
	return conn
}

func send(t *testing.T, conn *websocket.Conn, msg wsMessage) {
	t.Helper()
	if err := conn.WriteJSON(msg); err != nil {
		t.Fatalf("write %s: %v", msg.Type, err)
	}
}

// next reads the next message, answering server pings on the way.
func next(t *testing.T, conn *websocket.Conn) wsMessage {
	t.Helper()
	for {
		if err := conn.SetReadDeadline(time.Now().Add(wsDeadline)); err != nil {
			t.Fatalf("set read deadline: %v", err)
		}
		var msg wsMessage
		if err := conn.ReadJSON(&msg); err != nil {
			t.Fatalf("read: %v", err)
		}
		if msg.Type == "ping" {
			send(t, conn, wsMessage{Type: "pong"})
			continue
		}
		return msg
	}
}

func initConn(t *testing.T, conn *websocket.Conn, authorization string) {
	t.Helper()
	payload, err := json.Marshal(map[string]string{"Authorization": authorization})
	if err != nil {
		t.Fatalf("marshal payload: %v", err)
	}
	send(t, conn, wsMessage{Type: "connection_init", Payload: payload})
}

func TestWebsocketAuthorized(t *testing.T) {
	wsURL := wsServer(t, gqlhttp.WebsocketOptions{Auth: testAuth})
	conn := dial(t, wsURL, nil)
	initConn(t, conn, "Bearer good")
	if got := next(t, conn); got.Type != "connection_ack" {
		t.Fatalf("after connection_init got %+v, want connection_ack", got)
	}

	// The subscription streams every event, then completes.
	send(t, conn, wsMessage{ID: "1", Type: "subscribe",
		Payload: json.RawMessage(`{"query":"subscription { ticks(count: 3) }"}`)})
	var ticks []string
	for {
		msg := next(t, conn)
		if msg.ID != "1" {
			t.Fatalf("got %+v, want a message for subscription 1", msg)
		}
		if msg.Type == "complete" {
			break
		}
		if msg.Type != "next" {
			t.Fatalf("got %+v, want next or complete", msg)
		}
		ticks = append(ticks, string(msg.Payload))
	}
	want := []string{`{"data":{"ticks":1}}`, `{"data":{"ticks":2}}`, `{"data":{"ticks":3}}`}
	if strings.Join(ticks, " ") != strings.Join(want, " ") {
		t.Errorf("ticks = %v, want %v", ticks, want)
	}

	// Operations run with the context the auth callback returned.
	send(t, conn, wsMessage{ID: "2", Type: "subscribe", Payload: json.RawMessage(`{"query":"{ hello }"}`)})
	if got := next(t, conn); got.Type != "next" || string(got.Payload) != `{"data":{"hello":"hello alice"}}` {
		t.Errorf("query over WebSocket = %+v, want next with hello alice", got)
	}
}

func TestWebsocketForbidden(t *testing.T) {
	tests := []struct {
		name          string
		authorization string
	}{
		{name: "wrong token", authorization: "Bearer bad"},
		{name: "no token", authorization: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var reported []error
			wsURL := wsServer(t, gqlhttp.WebsocketOptions{
				Auth: testAuth,
				OnAuthError: func(_ context.Context, err error) {
					mu.Lock()
					defer mu.Unlock()
					reported = append(reported, err)
				},
			})
			conn := dial(t, wsURL, nil)
			initConn(t, conn, tc.authorization)

			if err := conn.SetReadDeadline(time.Now().Add(wsDeadline)); err != nil {
				t.Fatalf("set read deadline: %v", err)
			}
			_, data, err := conn.ReadMessage()
			var closeErr *websocket.CloseError
			if !errors.As(err, &closeErr) {
				t.Fatalf("read = %q, %v; want a close frame", data, err)
			}
			if closeErr.Code != gqlhttp.CloseForbidden || closeErr.Text != "Forbidden" {
				t.Errorf("close = %d %q, want %d Forbidden", closeErr.Code, closeErr.Text, gqlhttp.CloseForbidden)
			}
			// The callback ran before the close frame was written.
			mu.Lock()
			defer mu.Unlock()
			if len(reported) != 1 || !errors.Is(reported[0], errBadToken) {
				t.Errorf("OnAuthError got %v, want [%v]", reported, errBadToken)
			}
		})
	}
}

func TestWebsocketOrigin(t *testing.T) {
	tests := []struct {
		name       string
		allowed    []string
		origin     string // "" sends no Origin; "self" sends the server's own
		wantStatus int
	}{
		{name: "no origin header", wantStatus: http.StatusSwitchingProtocols},
		{name: "same origin", origin: "self", wantStatus: http.StatusSwitchingProtocols},
		{name: "foreign origin refused", origin: "https://evil.example", wantStatus: http.StatusForbidden},
		{name: "allowed origin", allowed: []string{"https://app.example.com"}, origin: "https://app.example.com",
			wantStatus: http.StatusSwitchingProtocols},
		{name: "allowed origin, other scheme refused", allowed: []string{"https://app.example.com"},
			origin: "http://app.example.com", wantStatus: http.StatusForbidden},
		{name: "wildcard subdomain", allowed: []string{"https://*.example.com"}, origin: "https://a.example.com",
			wantStatus: http.StatusSwitchingProtocols},
		{name: "other origin than allowed refused", allowed: []string{"https://app.example.com"},
			origin: "https://evil.example", wantStatus: http.StatusForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wsURL := wsServer(t, gqlhttp.WebsocketOptions{AllowedOrigins: tc.allowed})
			header := http.Header{}
			switch tc.origin {
			case "":
			case "self":
				header.Set("Origin", "http"+strings.TrimPrefix(strings.TrimSuffix(wsURL, "/graphql"), "ws"))
			default:
				header.Set("Origin", tc.origin)
			}
			d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: wsDeadline}
			conn, resp, err := d.Dial(wsURL, header)
			if conn != nil {
				defer conn.Close()
			}
			if resp == nil {
				t.Fatalf("dial: %v, no response", err)
			}
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("handshake status = %d, want %d (err %v)", resp.StatusCode, tc.wantStatus, err)
			}
		})
	}
}

func TestNewWebsocketDefaults(t *testing.T) {
	ws := gqlhttp.NewWebsocket(gqlhttp.WebsocketOptions{})
	if ws.PingPongInterval != gqlhttp.DefaultPingInterval || ws.KeepAlivePingInterval != gqlhttp.DefaultPingInterval {
		t.Errorf("ping intervals = %v/%v, want %v", ws.PingPongInterval, ws.KeepAlivePingInterval, gqlhttp.DefaultPingInterval)
	}
	if ws.InitTimeout != gqlhttp.DefaultInitTimeout {
		t.Errorf("InitTimeout = %v, want %v", ws.InitTimeout, gqlhttp.DefaultInitTimeout)
	}
	if ws.InitFunc != nil {
		t.Error("InitFunc is set without Auth, want nil")
	}
}
