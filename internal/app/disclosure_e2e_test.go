package app_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/originhub/originhub/internal/app"
	"github.com/originhub/originhub/internal/testkit"
)

const createDisclosure = `mutation($in: CreateDisclosureInput!) {
  createDisclosure(input: $in) { disclosure { id name state gsrn } userErrors { field message code } }
}`

const publicDisclosureQuery = `query($id: ID!, $res: DisclosureResolution) {
  disclosure(id: $id, resolution: $res) {
    id description state resolution shareOnly csvUrl pdfUrl
    series { gsrn address buckets { begin consumed retired matched coveredShare uncoveredShare technologies { technology amount share } } }
  }
}`

// rawPost posts a query and returns the raw response body, so tests can check that a
// secret appears nowhere in it (data, errors or extensions).
func (p *platform) rawPost(t *testing.T, authorization, query string, vars map[string]any) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, p.url+"/graphql", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := fmt.Fprint(&b, readAll(t, resp)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	var sb strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return sb.String()
}

// introspectedQuery builds a selection of every field of typ, recursively (objects only,
// depth-bounded), from the schema's introspection: whatever the public type offers, now or
// after a schema change, is read by the privacy test.
func introspectedQuery(t *testing.T, p *platform, typ string, depth int) string {
	t.Helper()
	_, r := p.post(t, "", `{ __schema { types { name kind fields { name args { name type { kind } } type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }`, nil)
	var schema struct {
		Schema struct {
			Types []struct {
				Name   string
				Kind   string
				Fields []struct {
					Name string
					Args []struct{ Name string }
					Type json.RawMessage
				}
			}
		} `json:"__schema"`
	}
	raw, _ := json.Marshal(r.Data)
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	types := map[string]int{}
	for i, ty := range schema.Schema.Types {
		types[ty.Name] = i
	}
	var build func(name string, depth int) string
	build = func(name string, depth int) string {
		ty := schema.Schema.Types[types[name]]
		var parts []string
		for _, f := range ty.Fields {
			if len(f.Args) > 0 {
				continue
			}
			var tr struct {
				Kind, Name string
				OfType     *json.RawMessage
			}
			inner := f.Type
			for {
				if err := json.Unmarshal(inner, &tr); err != nil {
					t.Fatal(err)
				}
				if tr.Name != "" || tr.OfType == nil {
					break
				}
				inner = *tr.OfType
			}
			switch tr.Kind {
			case "OBJECT", "INTERFACE":
				if depth > 0 {
					parts = append(parts, f.Name+" { __typename "+build(tr.Name, depth-1)+" }")
				}
			default:
				parts = append(parts, f.Name)
			}
		}
		return strings.Join(parts, " ")
	}
	return build(typ, depth)
}

func TestDisclosuresArePublicButPrivateDataIsNot(t *testing.T) {
	p := startRoles(t, testConfig(t, testkit.DatabaseURI(t), "GRAPHQL_MAX_DEPTH", "10", "RATE_LIMIT_PER_MINUTE", "0"), app.Roles{API: true, Worker: true})
	sub := testkit.Subject(t)
	alice := "Bearer " + p.token(t, sub)
	mallory := "Bearer " + p.token(t, sub+"-mallory")
	u, err := p.app.Users.Ensure(t.Context(), sub)
	if err != nil {
		t.Fatal(err)
	}
	h0 := time.Date(2030, 7, 1, 0, 0, 0, 0, time.UTC)
	gsrn := declarationWorld(t, p.app.DB, u.ID, h0)
	settings := map[string]any{
		"name": "Secret project name", "description": "Our consumption, hour by hour",
		"begin": map[string]any{"gte": h0, "lt": h0.Add(24 * time.Hour)}, "gsrn": []string{gsrn},
		"maxResolution": "HOUR", "perMeteringPoint": true, "shareOnly": true,
	}
	_, r := p.post(t, alice, createDisclosure, map[string]any{"in": map[string]any{"settings": settings}})
	var created struct {
		CreateDisclosure struct {
			Disclosure struct {
				ID, Name, State string
				Gsrn            []string
			}
			UserErrors []any
		}
	}
	mustData(t, r, &created)
	id := created.CreateDisclosure.Disclosure.ID
	if id == "" || created.CreateDisclosure.Disclosure.Gsrn[0] != gsrn {
		t.Fatalf("createDisclosure = %+v", created)
	}
	waitState := func(want string) {
		t.Helper()
		testkit.Eventually(t, 30*time.Second, func() bool {
			_, r := p.post(t, alice, `{ disclosures { id state error } }`, nil)
			var out struct{ Disclosures []struct{ ID, State string } }
			raw, _ := json.Marshal(r.Data)
			_ = json.Unmarshal(raw, &out)
			for _, d := range out.Disclosures {
				if d.ID == id {
					return d.State == want
				}
			}
			return false
		}, "disclosure "+want)
	}
	waitState("AVAILABLE")

	body := p.rawPost(t, "", publicDisclosureQuery, map[string]any{"id": id, "res": "HOUR"})
	var pub struct {
		Data struct {
			Disclosure struct {
				State, Resolution string
				ShareOnly         bool
				CSVURL            string `json:"csvUrl"`
				PDFURL            string `json:"pdfUrl"`
				Series            []struct {
					Gsrn, Address *string
					Buckets       []struct {
						Begin                        time.Time
						Consumed, Retired, Matched   *int64
						CoveredShare, UncoveredShare *string
						Technologies                 []struct {
							Technology string
							Amount     *int64
							Share      string
						}
					}
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &pub); err != nil {
		t.Fatal(err)
	}
	d := pub.Data.Disclosure
	if d.State != "AVAILABLE" || !d.ShareOnly || len(d.Series) != 1 || len(d.Series[0].Buckets) != 3 {
		t.Fatalf("public disclosure = %s", body)
	}
	want := []struct{ covered, uncovered, wind string }{{"0.600000", "0.400000", "1.000000"}, {"1.000000", "0.000000", "1.000000"}, {"0.000000", "1.000000", ""}}
	for i, b := range d.Series[0].Buckets {
		if b.Consumed != nil || b.Retired != nil || b.Matched != nil {
			t.Errorf("bucket %d shows amounts in share-only mode: %s", i, body)
		}
		if *b.CoveredShare != want[i].covered || *b.UncoveredShare != want[i].uncovered {
			t.Errorf("bucket %d covered %s uncovered %s, want %s %s", i, *b.CoveredShare, *b.UncoveredShare, want[i].covered, want[i].uncovered)
		}
		if want[i].wind != "" && (len(b.Technologies) != 1 || b.Technologies[0].Share != want[i].wind || b.Technologies[0].Amount != nil) {
			t.Errorf("bucket %d technologies = %+v", i, b.Technologies)
		}
	}

	// Nothing hidden appears anywhere: not in the public query, not in every field the
	// schema offers on the public types, not in node(id:), errors or the CSV download.
	secrets := []string{gsrn, "Hemmeligvej", "Aarhus", "Secret project name", `"consumed":1000`, `"consumed":2000`, `"amount":600`}
	full := fmt.Sprintf(`query($id: ID!) { disclosure(id: $id, resolution: HOUR) { %s } }`, introspectedQuery(t, p, "PublicDisclosure", 4))
	probes := map[string]string{
		"public query":           body,
		"every public field":     p.rawPost(t, "", full, map[string]any{"id": id}),
		"node by public id":      p.rawPost(t, "", `query($id: ID!) { node(id: $id) { id __typename } }`, map[string]any{"id": id}),
		"node by crafted id":     p.rawPost(t, "", `query($id: ID!) { node(id: $id) { id __typename } }`, map[string]any{"id": base64.StdEncoding.EncodeToString([]byte("Disclosure:1"))}),
		"owner list anonymously": p.rawPost(t, "", `{ disclosures { id name gsrn } }`, nil),
		"owner list as mallory":  p.rawPost(t, mallory, `{ disclosures { id name gsrn } }`, nil),
		"bad time zone":          p.rawPost(t, "", `query($id: ID!) { disclosure(id: $id, timeZone: "Mars/Base") { id } }`, map[string]any{"id": id}),
		"mallory updates": p.rawPost(t, mallory, `mutation($in: UpdateDisclosureInput!) { updateDisclosure(input: $in) { disclosure { id gsrn name } userErrors { code message } } }`,
			map[string]any{"in": map[string]any{"id": id, "settings": settings}}),
		"mallory deletes": p.rawPost(t, mallory, `mutation($id: ID!) { deleteDisclosure(input: {id: $id}) { deletedId userErrors { code message } } }`, map[string]any{"id": id}),
		"csv download":    download(t, d.CSVURL, "", http.StatusOK),
		"pdf text":        pdfText(t, []byte(download(t, d.PDFURL, "", http.StatusOK))),
	}
	for name, got := range probes {
		for _, s := range secrets {
			if strings.Contains(got, s) {
				t.Errorf("%s reveals %q:\n%s", name, s, got)
			}
		}
	}
	if !strings.Contains(probes["every public field"], `"coveredShare":"0.600000"`) {
		t.Errorf("introspection-built query read nothing: %s", probes["every public field"])
	}
	for _, name := range []string{"mallory updates", "mallory deletes"} {
		if !strings.Contains(probes[name], `"code":"NOT_FOUND"`) {
			t.Errorf("%s = %s, want a NOT_FOUND userError", name, probes[name])
		}
	}
	for _, want := range []string{"Disclosure", "Our consumption, hour by hour", "Series 1", "60.00", "100.00", "Wind 100.00 %"} {
		if !strings.Contains(probes["pdf text"], want) {
			t.Errorf("share-only PDF lacks %q:\n%s", want, probes["pdf text"])
		}
	}
	if strings.Contains(probes["pdf text"], "kWh") {
		t.Errorf("share-only PDF shows amounts:\n%s", probes["pdf text"])
	}
	if strings.Contains(probes["csv download"], "kwh") {
		t.Errorf("share-only CSV has amount columns:\n%s", probes["csv download"])
	}

	// The owner shows the GSRN and the amounts: after the recompilation anyone sees them.
	settings["shareOnly"], settings["showGsrn"] = false, true
	_, r = p.post(t, alice, `mutation($in: UpdateDisclosureInput!) { updateDisclosure(input: $in) { disclosure { state } userErrors { code message } } }`,
		map[string]any{"in": map[string]any{"id": id, "settings": settings}})
	if len(r.Errors) > 0 || !strings.Contains(string(r.Data["updateDisclosure"]), `"userErrors":[]`) {
		t.Fatalf("updateDisclosure = %s %+v", r.Data["updateDisclosure"], r.Errors)
	}
	waitState("AVAILABLE")
	body = p.rawPost(t, "", publicDisclosureQuery, map[string]any{"id": id, "res": "DAY"})
	for _, s := range []string{`"gsrn":"` + gsrn + `"`, `"address":null`, `"consumed":4000`, `"retired":3100`, `"matched":2600`, `"coveredShare":"0.650000"`, `"resolution":"DAY"`} {
		if !strings.Contains(body, s) {
			t.Errorf("after showing: public disclosure lacks %s:\n%s", s, body)
		}
	}
	var shown struct {
		Data struct {
			Disclosure struct {
				PDFURL string `json:"pdfUrl"`
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &shown); err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, []byte(download(t, shown.Data.Disclosure.PDFURL, "", http.StatusOK)))
	for _, want := range []string{gsrn, "Consumed kWh", "4.000", "3.100", "65.00", "2030-07-01"} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF after showing lacks %q:\n%s", want, text)
		}
	}
	_, r = p.post(t, alice, `mutation($id: ID!) { deleteDisclosure(input: {id: $id}) { deletedId userErrors { code } } }`, map[string]any{"id": id})
	if !strings.Contains(string(r.Data["deleteDisclosure"]), id) {
		t.Fatalf("deleteDisclosure = %s", r.Data["deleteDisclosure"])
	}
	if body := p.rawPost(t, "", publicDisclosureQuery, map[string]any{"id": id}); !strings.Contains(body, `"disclosure":null`) {
		t.Fatalf("deleted disclosure still public: %s", body)
	}
}
