// Package graphiql serves the GraphiQL IDE from assets embedded in the binary,
// so it works on machines with no internet access.
//
// The assets in dist/ are built by the npm project in web/graphiql (see its
// README.md) and committed, so building the Go binary needs no Node.
package graphiql

//go:generate npm --prefix ../../web/graphiql ci
//go:generate npm --prefix ../../web/graphiql run build

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"
)

//go:embed dist
var distFS embed.FS

//go:embed page.html
var pageTemplate string

// DefaultGraphQLPath is the endpoint the page talks to when Options leaves it empty.
const DefaultGraphQLPath = "/graphql"

// Options configures Handler.
type Options struct {
	// GraphQLPath is the absolute path of the GraphQL endpoint on the page's
	// own origin, used for queries over HTTP and for subscriptions over
	// WebSocket (ws: or wss: to match the page). Empty means DefaultGraphQLPath.
	GraphQLPath string
}

// manifest is written by web/graphiql/build.mjs and names the hashed files
// the page loads.
type manifest struct {
	Script  string            `json:"script"`
	Style   string            `json:"style"`
	Workers map[string]string `json:"workers"`
}

// pageCSP is the page's Content-Security-Policy. Scripts, workers and
// requests stay on the page's origin. Styles need 'unsafe-inline' because
// Monaco and GraphiQL set style attributes at run time; fonts and images come
// inline as data: URLs in GraphiQL's stylesheet.
const pageCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"font-src 'self' data:; img-src 'self' data:; worker-src 'self'; connect-src 'self'%s; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// immutableCache is sent with content-hashed assets: a new build changes
// their names, so a browser never needs to revalidate them.
const immutableCache = "public, max-age=31536000, immutable"

type handler struct {
	page     []byte
	pageETag string
	assets   map[string]bool // names of the files the page may load
	files    http.Handler
}

// Handler returns the GraphiQL page and its assets. It expects paths relative
// to where it is mounted: the page at "/", the assets beside it. Mount it under
// a prefix with http.StripPrefix, for example
//
//	mux.Handle("/graphiql/", http.StripPrefix("/graphiql", graphiql.Handler(graphiql.Options{})))
//
// (http.ServeMux then redirects "/graphiql" to "/graphiql/" by itself). A path
// that names no asset answers 404, never the page, so a missing Monaco worker
// fails loudly. Only GET and HEAD are allowed.
//
// Handler panics if opts.GraphQLPath is not an absolute path or if the
// embedded assets are unusable; both are programmer errors found at start-up.
func Handler(opts Options) http.Handler {
	h, err := newHandler(opts)
	if err != nil {
		panic(fmt.Sprintf("graphiql: %v", err))
	}
	return h
}

func newHandler(opts Options) (*handler, error) {
	gqlPath := opts.GraphQLPath
	if gqlPath == "" {
		gqlPath = DefaultGraphQLPath
	}
	// A path, not a URL: the page resolves it against its own origin, which
	// the Content-Security-Policy's connect-src relies on.
	if !strings.HasPrefix(gqlPath, "/") || strings.HasPrefix(gqlPath, "//") {
		return nil, fmt.Errorf("graphql path %q is not an absolute path", gqlPath)
	}

	dist, err := fs.Sub(distFS, "dist")
	if err != nil {
		return nil, fmt.Errorf("open embedded assets: %w", err)
	}
	m, err := readManifest(dist)
	if err != nil {
		return nil, err
	}

	tmpl, err := template.New("page").Parse(pageTemplate)
	if err != nil {
		return nil, fmt.Errorf("parse page template: %w", err)
	}
	var page bytes.Buffer
	err = tmpl.Execute(&page, struct{ GraphQLPath, Script, Style string }{gqlPath, m.Script, m.Style})
	if err != nil {
		return nil, fmt.Errorf("render page: %w", err)
	}
	sum := sha256.Sum256(page.Bytes())

	assets := map[string]bool{m.Script: true, m.Style: true}
	for _, w := range m.Workers {
		assets[w] = true
	}
	return &handler{
		page:     page.Bytes(),
		pageETag: `"` + hex.EncodeToString(sum[:16]) + `"`,
		assets:   assets,
		files:    http.FileServerFS(dist),
	}, nil
}

// readManifest loads manifest.json and checks that every file it names exists.
func readManifest(dist fs.FS) (manifest, error) {
	var m manifest
	b, err := fs.ReadFile(dist, "manifest.json")
	if err != nil {
		return m, fmt.Errorf("read asset manifest: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("decode asset manifest: %w", err)
	}
	names := []string{m.Script, m.Style}
	for _, label := range []string{"editor", "json", "graphql"} {
		names = append(names, m.Workers[label])
	}
	for _, name := range names {
		if name == "" || strings.Contains(name, "/") {
			return m, fmt.Errorf("asset manifest names %q", name)
		}
		if _, err := fs.Stat(dist, name); err != nil {
			return m, fmt.Errorf("asset manifest: %w", err)
		}
	}
	return m, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.URL.Path == "/" {
		h.servePage(w, r)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, "/")
	if !h.assets[name] {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", immutableCache)
	h.files.ServeHTTP(w, r)
}

func (h *handler) servePage(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	// The page names the current build's hashed assets, so it must be
	// revalidated; the ETag keeps that cheap.
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("ETag", h.pageETag)
	hdr.Set("Content-Security-Policy", fmt.Sprintf(pageCSP, wsSources(r.Host)))
	hdr.Set("Referrer-Policy", "no-referrer")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(h.page))
}

// wsSources lists the page's own host under the WebSocket schemes for
// connect-src. CSP Level 3 lets 'self' match ws: and wss: on the same host,
// but older browsers need them spelled out. A host that is not plainly a
// host[:port] is left out rather than echoed into a header.
func wsSources(host string) string {
	if host == "" || !validHost(host) {
		return ""
	}
	return " ws://" + host + " wss://" + host
}

func validHost(host string) bool {
	for _, c := range host {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.', c == '-', c == ':', c == '[', c == ']':
		default:
			return false
		}
	}
	return true
}
