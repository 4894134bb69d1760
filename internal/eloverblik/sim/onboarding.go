package sim

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

// Onboarding contract (the simulated consent step of §4.2):
//
//	GET /onboarding?thirdPartyId=…&fromDate=YYYY-MM-DD&toDate=YYYY-MM-DD&customerKey=…&returnUrl=…
//	    200 text/html: a self-contained page (no external assets) listing the
//	    points that would be shared, with "Grant access" and "Deny" buttons
//	    that POST the same fields to /onboarding (relative, so it works under
//	    any mount point). 400 when customerKey is empty or returnUrl is not an
//	    absolute http(s) URL or an absolute path.
//	POST /onboarding (application/x-www-form-urlencoded)
//	    fields thirdPartyId, fromDate, toDate, customerKey, returnUrl and
//	    decision=grant|deny. On grant the customer's points become visible
//	    to the metering-point and time-series routes. Either way the answer
//	    is 303 to returnUrl with customerKey=<key> and granted=true|false
//	    added to its query (existing parameters such as sub are kept).
//
// Granting twice is harmless; a denial does not revoke an earlier grant.

var onboardingPage = template.Must(template.New("onboarding").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ElOverblik (simulated): grant access</title>
<style>body{font-family:sans-serif;max-width:40em;margin:2em auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em}button{margin:1em .5em 0 0;padding:.5em 1em}</style>
</head><body>
<h1>ElOverblik (simulated)</h1>
<p><strong>{{.ThirdParty}}</strong> asks for access to the metering points of customer <code>{{.CustomerKey}}</code>
from {{.FromDate}} to {{.ToDate}}.</p>
<table><tr><th>GSRN</th><th>Type</th><th>Address</th><th>Sector</th></tr>
{{range .Points}}<tr><td>{{.GSRN}}</td><td>{{.TypeOfMP}}</td><td>{{.StreetName}} {{.BuildingNumber}}, {{.Postcode}} {{.CityName}}</td><td>{{.Sector}}</td></tr>
{{end}}</table>
<form method="post" action="onboarding">
<input type="hidden" name="thirdPartyId" value="{{.ThirdPartyID}}">
<input type="hidden" name="fromDate" value="{{.FromDate}}">
<input type="hidden" name="toDate" value="{{.ToDate}}">
<input type="hidden" name="customerKey" value="{{.CustomerKey}}">
<input type="hidden" name="returnUrl" value="{{.ReturnURL}}">
<button type="submit" name="decision" value="grant" id="grant">Grant access</button>
<button type="submit" name="decision" value="deny" id="deny">Deny</button>
</form></body></html>
`))

type onboardingRequest struct {
	ThirdPartyID, FromDate, ToDate, CustomerKey, ReturnURL string
}

func readOnboarding(get func(string) string) (onboardingRequest, *url.URL, bool) {
	req := onboardingRequest{
		ThirdPartyID: get("thirdPartyId"), FromDate: get("fromDate"), ToDate: get("toDate"),
		CustomerKey: get("customerKey"), ReturnURL: get("returnUrl"),
	}
	u, err := url.Parse(req.ReturnURL)
	if err != nil || req.CustomerKey == "" {
		return req, nil, false
	}
	absolute := (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
	path := u.Scheme == "" && u.Host == "" && strings.HasPrefix(u.Path, "/") && !strings.HasPrefix(req.ReturnURL, "//")
	return req, u, absolute || path
}

func (s *Simulator) handleOnboardingPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req, _, ok := readOnboarding(q.Get)
	if !ok {
		http.Error(w, "customerKey and an absolute returnUrl are required", http.StatusBadRequest)
		return
	}
	data := struct {
		onboardingRequest
		ThirdParty string
		Points     []Point
	}{req, s.name, s.Points(req.CustomerKey)}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = onboardingPage.Execute(w, data)
}

func (s *Simulator) handleOnboardingGrant(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	req, ret, ok := readOnboarding(r.PostForm.Get)
	if !ok {
		http.Error(w, "customerKey and an absolute returnUrl are required", http.StatusBadRequest)
		return
	}
	granted := r.PostForm.Get("decision") == "grant"
	if granted {
		s.mu.Lock()
		s.grantLocked(req.CustomerKey, grant{thirdPartyID: req.ThirdPartyID, from: req.FromDate, to: req.ToDate, at: s.now()})
		s.mu.Unlock()
	}
	q := ret.Query()
	q.Set("customerKey", req.CustomerKey)
	if granted {
		q.Set("granted", "true")
	} else {
		q.Set("granted", "false")
	}
	ret.RawQuery = q.Encode()
	http.Redirect(w, r, ret.String(), http.StatusSeeOther)
}
