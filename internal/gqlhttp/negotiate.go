package gqlhttp

import (
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// Media types the transports can answer with.
const (
	// MediaTypeGraphQLResponse is application/graphql-response+json, whose status
	// codes tell a request error (4xx, no data) from an executed one (200).
	MediaTypeGraphQLResponse = "application/graphql-response+json"
	// MediaTypeJSON is application/json, the legacy media type: every well-formed
	// request is answered with 200 and the errors live in the body.
	MediaTypeJSON = "application/json"
)

// acceptMatch is what one Accept header says about one of our media types.
type acceptMatch struct {
	q           float64
	specificity int // 0: no match, 1: */*, 2: application/*, 3: exact
	position    int // index of the matching range, for ties between exact ranges
}

// moreSpecificThan reports whether m is a more specific match than o (RFC 9110 §12.5.1:
// the most specific range that matches a type decides its quality).
func (m acceptMatch) moreSpecificThan(o acceptMatch) bool {
	return m.specificity > o.specificity
}

// negotiate picks the response media type from the request's Accept headers.
// A missing or empty Accept means application/json, as the spec recommends
// for clients that predate application/graphql-response+json. Wildcards also
// resolve to application/json: until the spec's watershed, clients that say
// */* are legacy clients that expect 200 on request errors. When both types
// are listed explicitly with the same quality, the first one listed wins. A
// range whose charset parameter is not utf-8 matches nothing, because we only
// ever answer in UTF-8. ok is false when neither type is acceptable (406).
func negotiate(h http.Header) (mediaType string, ok bool) {
	header := strings.TrimSpace(strings.Join(h.Values("Accept"), ","))
	if header == "" {
		return MediaTypeJSON, true
	}

	var gql, js acceptMatch
	for i, part := range strings.Split(header, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		typ, params, err := mime.ParseMediaType(part)
		if err != nil {
			continue
		}
		if cs, has := params["charset"]; has && !strings.EqualFold(cs, "utf-8") {
			continue
		}
		q := 1.0
		if qs, has := params["q"]; has {
			q, err = strconv.ParseFloat(qs, 64)
			if err != nil || q < 0 || q > 1 {
				continue
			}
		}
		m := acceptMatch{q: q, position: i}
		switch typ {
		case MediaTypeGraphQLResponse:
			m.specificity = 3
			if m.moreSpecificThan(gql) {
				gql = m
			}
		case MediaTypeJSON:
			m.specificity = 3
			if m.moreSpecificThan(js) {
				js = m
			}
		case "application/*", "*/*":
			m.specificity = 1
			if typ == "application/*" {
				m.specificity = 2
			}
			if m.moreSpecificThan(gql) {
				gql = m
			}
			if m.moreSpecificThan(js) {
				js = m
			}
		}
	}

	gqlOK := gql.specificity > 0 && gql.q > 0
	jsOK := js.specificity > 0 && js.q > 0
	switch {
	case !gqlOK && !jsOK:
		return "", false
	case !jsOK:
		return MediaTypeGraphQLResponse, true
	case !gqlOK:
		return MediaTypeJSON, true
	case gql.q != js.q:
		if gql.q > js.q {
			return MediaTypeGraphQLResponse, true
		}
		return MediaTypeJSON, true
	case gql.specificity == 3 && js.specificity == 3:
		if gql.position < js.position {
			return MediaTypeGraphQLResponse, true
		}
		return MediaTypeJSON, true
	case gql.specificity > js.specificity:
		return MediaTypeGraphQLResponse, true
	default:
		return MediaTypeJSON, true
	}
}

// checkContentType reports whether a POST's Content-Type is one we read:
// application/json, with no charset or charset=utf-8 (the spec only allows
// UTF-8 request bodies).
func checkContentType(h http.Header) bool {
	ct := h.Get("Content-Type")
	if ct == "" {
		return false
	}
	typ, params, err := mime.ParseMediaType(ct)
	if err != nil || typ != MediaTypeJSON {
		return false
	}
	if cs, has := params["charset"]; has && !strings.EqualFold(cs, "utf-8") {
		return false
	}
	return true
}
