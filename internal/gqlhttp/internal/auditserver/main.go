// Command auditserver serves the gqlhttp test schema through the gqlhttp
// transports, so that the GraphQL-over-HTTP audit (web/audit) can run against
// them without the real OriginHub server:
//
//	go run ./internal/gqlhttp/internal/auditserver -addr 127.0.0.1:4000 &
//	node web/audit/audit.mjs http://127.0.0.1:4000/graphql
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"

	"github.com/originhub/originhub/internal/gqlhttp"
	"github.com/originhub/originhub/internal/gqlhttp/internal/testschema"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:4000", "listen address")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(*addr, logger); err != nil {
		logger.Error("audit server stopped", "err", err)
		os.Exit(1)
	}
}

func run(addr string, logger *slog.Logger) error {
	srv := handler.New(testschema.New())
	gqlhttp.AddTransports(srv, gqlhttp.Options{}, gqlhttp.WebsocketOptions{})
	srv.Use(extension.Introspection{})
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	srv.Use(gqlhttp.DepthLimit{Max: 10})

	mux := http.NewServeMux()
	mux.Handle("GET /graphql", srv)
	mux.Handle("POST /graphql", srv)

	httpSrv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := httpSrv.Shutdown(shutdownCtx); err != nil {
			logger.Error("audit server shutdown", "err", err)
		}
	}()
	logger.Info("audit server listening", "addr", addr)
	if err := httpSrv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
