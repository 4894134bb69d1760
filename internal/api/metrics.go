package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the Prometheus collectors of one process, in a registry of its own (no
// global state, so tests can build several servers).
type Metrics struct {
	reg        *prometheus.Registry
	httpReqs   *prometheus.CounterVec
	gqlReqs    *prometheus.CounterVec
	gqlLatency *prometheus.HistogramVec
}

// NewMetrics returns a registry with the Go runtime and process collectors and ours.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		httpReqs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "originhub_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		gqlReqs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "originhub_graphql_requests_total", Help: "GraphQL operations by operation name, type and outcome.",
		}, []string{"operation", "type", "outcome"}),
		gqlLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "originhub_graphql_request_duration_seconds", Help: "GraphQL operation latency by operation name.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"operation", "type"}),
	}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpReqs, m.gqlReqs, m.gqlLatency)
	return m
}

// Registry returns the registry, for other packages' collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// RegisterQueues exports the asynq queue sizes, read from Redis at each scrape.
func (m *Metrics) RegisterQueues(inspector *asynq.Inspector) error {
	return m.reg.Register(queueCollector{inspector: inspector})
}

// routeOf keeps label cardinality bounded: known paths by name, everything else "other".
func routeOf(path string) string {
	switch {
	case path == "/graphql", path == "/healthz", path == "/readyz", path == "/metrics", path == "/":
		return path
	case strings.HasPrefix(path, "/graphiql"):
		return "/graphiql"
	case strings.HasPrefix(path, "/sim/"):
		return "/sim"
	case strings.HasPrefix(path, "/.well-known/"):
		return "/.well-known"
	}
	return "other"
}

func (m *Metrics) instrumentHTTP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		code := sw.status
		if code == 0 {
			code = http.StatusSwitchingProtocols // hijacked WebSocket
		}
		m.httpReqs.WithLabelValues(routeOf(r.URL.Path), strconv.Itoa(code)).Inc()
	})
}

// graphqlExtension records each operation's outcome and latency by operation name.
func (m *Metrics) graphqlExtension() graphql.HandlerExtension { return gqlMetrics{m} }

type gqlMetrics struct{ m *Metrics }

func (gqlMetrics) ExtensionName() string                   { return "Metrics" }
func (gqlMetrics) Validate(graphql.ExecutableSchema) error { return nil }

func (g gqlMetrics) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	start := time.Now()
	resp := next(ctx)
	name, typ := "unknown", "unknown"
	if graphql.HasOperationContext(ctx) {
		oc := graphql.GetOperationContext(ctx)
		if oc.OperationName != "" {
			name = oc.OperationName
		} else {
			name = "anonymous"
		}
		if oc.Operation != nil {
			typ = string(oc.Operation.Operation)
		}
	}
	if len(name) > 64 {
		name = name[:64]
	}
	outcome := "ok"
	if resp == nil {
		outcome = "closed"
	} else if len(resp.Errors) > 0 {
		outcome = "error"
	}
	g.m.gqlReqs.WithLabelValues(name, typ, outcome).Inc()
	if typ != "subscription" {
		g.m.gqlLatency.WithLabelValues(name, typ).Observe(time.Since(start).Seconds())
	}
	return resp
}

var queueSizeDesc = prometheus.NewDesc("originhub_asynq_queue_size", "Tasks in an asynq queue by state.", []string{"queue", "state"}, nil)

type queueCollector struct{ inspector *asynq.Inspector }

func (queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- queueSizeDesc }

func (c queueCollector) Collect(ch chan<- prometheus.Metric) {
	queues, err := c.inspector.Queues()
	if err != nil {
		return // Redis down: /readyz reports it; a scrape should not fail for it
	}
	for _, q := range queues {
		info, err := c.inspector.GetQueueInfo(q)
		if err != nil {
			continue
		}
		for state, n := range map[string]int{
			"pending": info.Pending, "active": info.Active, "scheduled": info.Scheduled,
			"retry": info.Retry, "archived": info.Archived, "completed": info.Completed,
		} {
			ch <- prometheus.MustNewConstMetric(queueSizeDesc, prometheus.GaugeValue, float64(n), q, state)
		}
	}
}
