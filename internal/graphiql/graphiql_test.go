package graphiql

import (
	"bytes"
	"encoding/xml"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strings"
	"testing"
)

// get sends one request straight to h and returns the recorded response.
func get(t *testing.T, h http.Handler, method, target string, hdr map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return b
}

func testManifest(t *testing.T) (manifest, fs.FS) {
	t.Helper()
	dist, err := fs.Sub(distFS, "dist")
	if err != nil {
		t.Fatalf("sub dist: %v", err)
	}
	m, err := readManifest(dist)
	if err != nil {
		t.Fatalf("readManifest() error = %v", err)
	}
	return m, dist
}

func TestPage(t *testing.T) {
	h := Handler(Options{})
	resp := get(t, h, http.MethodGet, "http://origin.test/", nil)
	page := string(body(t, resp))

	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / status = %d, want 200", resp.StatusCode)
	}
	if got, want := resp.Header.Get("Content-Type"), "text/html; charset=utf-8"; got != want {
		t.Errorf("Content-Type = %q, want %q", got, want)
	}
	if got, want := resp.Header.Get("Cache-Control"), "no-cache"; got != want {
		t.Errorf("Cache-Control = %q, want %q", got, want)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{
		"default-src 'self'",
		"script-src 'self';",
		"style-src 'self' 'unsafe-inline'",
		"font-src 'self' data:",
		"img-src 'self' data:",
		"worker-src 'self'",
		"connect-src 'self' ws://origin.test wss://origin.test;",
		"frame-ancestors 'none'",
	} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy = %q, want it to contain %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "script-src 'self' 'unsafe-inline'") {
		t.Errorf("Content-Security-Policy = %q allows script injection", csp)
	}
	if !strings.Contains(page, `<meta name="originhub-graphql-path" content="/graphql">`) {
		t.Errorf("page does not name the default GraphQL path:\n%s", page)
	}

	// The ETag makes the no-cache revalidation cheap.
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatal("page has no ETag")
	}
	again := get(t, h, http.MethodGet, "http://origin.test/", map[string]string{"If-None-Match": etag})
	if again.StatusCode != http.StatusNotModified {
		t.Errorf("GET / with If-None-Match status = %d, want 304", again.StatusCode)
	}

	head := get(t, h, http.MethodHead, "http://origin.test/", nil)
	if head.StatusCode != http.StatusOK || len(body(t, head)) != 0 {
		t.Errorf("HEAD / = %d with a body, want 200 without", head.StatusCode)
	}
}

func TestGraphQLPath(t *testing.T) {
	tests := []struct {
		name     string
		path     string
		wantMeta string
		wantErr  bool
	}{
		{name: "default", path: "", wantMeta: "/graphql"},
		{name: "custom", path: "/api/graphql", wantMeta: "/api/graphql"},
		{name: "escaped", path: `/q"><script>`, wantMeta: "/q&#34;&gt;&lt;script&gt;"},
		{name: "relative", path: "graphql", wantErr: true},
		{name: "absolute URL", path: "https://elsewhere.test/graphql", wantErr: true},
		{name: "scheme-relative URL", path: "//elsewhere.test/graphql", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := newHandler(Options{GraphQLPath: tc.path})
			if tc.wantErr {
				if err == nil {
					t.Fatalf("newHandler(%q) error = nil, want an error", tc.path)
				}
				return
			}
			if err != nil {
				t.Fatalf("newHandler(%q) error = %v", tc.path, err)
			}
			want := `<meta name="originhub-graphql-path" content="` + tc.wantMeta + `">`
			if !bytes.Contains(h.page, []byte(want)) {
				t.Errorf("page = %s\nwant it to contain %s", h.page, want)
			}
		})
	}
}

func TestHandlerPanicsOnBadOptions(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Handler(bad path) did not panic")
		}
	}()
	Handler(Options{GraphQLPath: "graphql"})
}

func TestAssets(t *testing.T) {
	m, dist := testManifest(t)
	h := Handler(Options{})
	tests := []struct {
		name     string
		file     string
		wantType string
	}{
		{name: "page script", file: m.Script, wantType: "text/javascript; charset=utf-8"},
		{name: "stylesheet", file: m.Style, wantType: "text/css; charset=utf-8"},
		{name: "editor worker", file: m.Workers["editor"], wantType: "text/javascript; charset=utf-8"},
		{name: "json worker", file: m.Workers["json"], wantType: "text/javascript; charset=utf-8"},
		{name: "graphql worker", file: m.Workers["graphql"], wantType: "text/javascript; charset=utf-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := get(t, h, http.MethodGet, "/"+tc.file, nil)
			got := body(t, resp)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET /%s status = %d, want 200", tc.file, resp.StatusCode)
			}
			if ct := resp.Header.Get("Content-Type"); ct != tc.wantType {
				t.Errorf("GET /%s Content-Type = %q, want %q", tc.file, ct, tc.wantType)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != immutableCache {
				t.Errorf("GET /%s Cache-Control = %q, want %q", tc.file, cc, immutableCache)
			}
			want, err := fs.ReadFile(dist, tc.file)
			if err != nil {
				t.Fatalf("read embedded %s: %v", tc.file, err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("GET /%s body differs from the embedded file (%d bytes, want %d)", tc.file, len(got), len(want))
			}
		})
	}
}

func TestNotFound(t *testing.T) {
	m, _ := testManifest(t)
	h := Handler(Options{})
	for _, target := range []string{
		"/missing.js",
		"/graphiql.js",
		"/json.worker.js",
		"/manifest.json",
		"/index.html",
		"/dist/" + m.Script,
		"/" + m.Script + "/",
		"/" + strings.ToUpper(m.Script),
		"/page.html",
		"/%2e%2e/page.html",
	} {
		t.Run(target, func(t *testing.T) {
			resp := get(t, h, http.MethodGet, target, nil)
			got := body(t, resp)
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s status = %d, want 404", target, resp.StatusCode)
			}
			if bytes.Contains(got, []byte("<html")) {
				t.Errorf("GET %s answered with the page", target)
			}
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	h := Handler(Options{})
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		resp := get(t, h, method, "/", nil)
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s / status = %d, want 405", method, resp.StatusCode)
		}
		if allow := resp.Header.Get("Allow"); allow != "GET, HEAD" {
			t.Errorf("%s / Allow = %q, want %q", method, allow, "GET, HEAD")
		}
	}
}

// TestMountedUnderPrefix follows the recipe in Handler's doc comment and
// loads every URL the page references, as a browser would.
func TestMountedUnderPrefix(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/graphiql/", http.StripPrefix("/graphiql", Handler(Options{})))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	resp, err := client.Get(srv.URL + "/graphiql")
	if err != nil {
		t.Fatalf("GET /graphiql: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 3 || resp.Header.Get("Location") != "/graphiql/" {
		t.Errorf("GET /graphiql = %d to %q, want a redirect to /graphiql/", resp.StatusCode, resp.Header.Get("Location"))
	}

	pageURL, err := url.Parse(srv.URL + "/graphiql/")
	if err != nil {
		t.Fatalf("parse server URL: %v", err)
	}
	resp, err = client.Get(pageURL.String())
	if err != nil {
		t.Fatalf("GET /graphiql/: %v", err)
	}
	page := body(t, resp)
	resp.Body.Close()

	refs := pageRefs(t, page)
	if len(refs) < 2 {
		t.Fatalf("page references %v, want at least the script and the stylesheet", refs)
	}
	for _, ref := range refs {
		u, err := pageURL.Parse(ref)
		if err != nil {
			t.Errorf("page reference %q does not parse: %v", ref, err)
			continue
		}
		if u.Scheme == "data" {
			continue
		}
		// Only same-origin, relative references: an absolute URL to any host
		// would break when the server is reached under another name.
		if strings.Contains(ref, "//") || u.Host != pageURL.Host || !strings.HasPrefix(u.Path, "/graphiql/") {
			t.Errorf("page references %q (%s), want a relative URL on the page's origin", ref, u)
			continue
		}
		resp, err := client.Get(u.String())
		if err != nil {
			t.Errorf("GET %s: %v", u, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s status = %d, want 200", u, resp.StatusCode)
		}
	}
}

// pageRefs returns every src and href attribute in the page. encoding/xml in
// non-strict mode with HTML's auto-closing rules reads our small page well
// enough, without a dependency on an HTML parser.
func pageRefs(t *testing.T, page []byte) []string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(page))
	dec.Strict = false
	dec.AutoClose = xml.HTMLAutoClose
	dec.Entity = xml.HTMLEntity
	var refs []string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return refs
		}
		if err != nil {
			t.Fatalf("parse page: %v", err)
		}
		if el, ok := tok.(xml.StartElement); ok {
			for _, a := range el.Attr {
				if a.Name.Local == "src" || a.Name.Local == "href" {
					refs = append(refs, a.Value)
				}
			}
		}
	}
}

// TestBundleLoadsNothingFromCDNs greps the built files for the CDNs that
// GraphiQL's stock setups load Monaco's workers and the UI from.
func TestBundleLoadsNothingFromCDNs(t *testing.T) {
	m, dist := testManifest(t)
	listed := map[string]bool{"manifest.json": true, m.Script: true, m.Style: true}
	for _, w := range m.Workers {
		listed[w] = true
	}
	err := fs.WalkDir(dist, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !listed[name] {
			t.Errorf("dist/%s is not in the manifest: a stale build output?", name)
		}
		b, err := fs.ReadFile(dist, name)
		if err != nil {
			return err
		}
		for _, cdn := range []string{"unpkg.com", "jsdelivr.net", "esm.sh", "cdnjs.cloudflare.com", "fonts.googleapis.com"} {
			if bytes.Contains(b, []byte(cdn)) {
				t.Errorf("dist/%s mentions %s", name, cdn)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk dist: %v", err)
	}
	if len(m.Workers) != 3 {
		t.Errorf("manifest lists workers %v, want editor, json and graphql", m.Workers)
	}
	for label, file := range m.Workers {
		if !strings.HasPrefix(path.Base(file), label+".worker-") {
			t.Errorf("worker %q is built as %q", label, file)
		}
	}
}

func TestWSSources(t *testing.T) {
	tests := []struct {
		host string
		want string
	}{
		{host: "localhost:8080", want: " ws://localhost:8080 wss://localhost:8080"},
		{host: "originhub.example", want: " ws://originhub.example wss://originhub.example"},
		{host: "[::1]:8080", want: " ws://[::1]:8080 wss://[::1]:8080"},
		{host: "", want: ""},
		{host: "evil; script-src *", want: ""},
		{host: "a'b", want: ""},
	}
	for _, tc := range tests {
		if got := wsSources(tc.host); got != tc.want {
			t.Errorf("wsSources(%q) = %q, want %q", tc.host, got, tc.want)
		}
	}
}
