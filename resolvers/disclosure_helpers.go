package resolvers

import (
	"errors"
	"net/url"
	"time"

	"github.com/originhub/originhub/graph"
	"github.com/originhub/originhub/internal/disclosure"
	"github.com/originhub/originhub/models"
)

func disclosureSettings(in *graph.DisclosureSettingsInput) disclosure.Settings {
	if in == nil {
		return disclosure.Settings{}
	}
	st := disclosure.Settings{Name: in.Name, GSRNs: in.Gsrn, MaxResolution: in.MaxResolution, PerMeteringPoint: in.PerMeteringPoint}
	if in.Description != nil {
		st.Description = *in.Description
	}
	if in.Begin != nil {
		if in.Begin.Gte != nil {
			st.From = *in.Begin.Gte
		}
		if in.Begin.Lt != nil {
			st.To = *in.Begin.Lt
		}
	}
	st.ShowGSRN = in.ShowGsrn != nil && *in.ShowGsrn
	st.ShowAddress = in.ShowAddress != nil && *in.ShowAddress
	st.ShareOnly = in.ShareOnly != nil && *in.ShareOnly
	return st
}

// disclosureUserError maps an expected disclosure failure to a userError; ok is false for
// anything else.
func disclosureUserError(err error) (graph.UserError, bool) {
	var ie *disclosure.InputError
	switch {
	case errors.As(err, &ie):
		return inputUserError(ie), true
	case errors.Is(err, disclosure.ErrNotFound):
		return graph.UserError{Field: []string{"input", "id"}, Message: "no such disclosure of yours", Code: CodeNotFound}, true
	}
	return graph.UserError{}, false
}

func disclosurePayload(d models.Disclosure, err error) (*graph.DisclosurePayload, error) {
	out := &graph.DisclosurePayload{UserErrors: []graph.UserError{}}
	if err != nil {
		if ue, ok := disclosureUserError(err); ok {
			out.UserErrors = append(out.UserErrors, ue)
			return out, nil
		}
		return nil, err
	}
	out.Disclosure = &d
	return out, nil
}

func whPtr(wh int64, hidden bool) *models.WattHours {
	if hidden {
		return nil
	}
	v := models.WattHours(wh)
	return &v
}

// disclosureLink is the public download link at path of p as read (resolution, zone and
// range).
func disclosureLink(base, path string, p disclosure.Public, from, to *time.Time) string {
	v := url.Values{}
	v.Set("resolution", string(p.Resolution))
	v.Set("timeZone", p.TimeZone)
	if from != nil {
		v.Set("gte", from.UTC().Format(time.RFC3339))
	}
	if to != nil {
		v.Set("lt", to.UTC().Format(time.RFC3339))
	}
	return base + path + "?" + v.Encode()
}

// publicDisclosure maps the public view; amounts stay null in share-only mode.
func publicDisclosure(p disclosure.Public, csvURL, pdfURL string) *graph.PublicDisclosure {
	out := &graph.PublicDisclosure{
		ID: p.PublicID, Description: p.Description, Begin: p.From, End: p.To, State: p.State, MaxResolution: p.MaxResolution,
		Resolution: p.Resolution, TimeZone: p.TimeZone, ShareOnly: p.ShareOnly, Series: make([]graph.DisclosureSeries, len(p.Series)), CSVURL: csvURL, PDFURL: pdfURL,
	}
	for i, s := range p.Series {
		gs := graph.DisclosureSeries{Gsrn: s.GSRN, Address: s.Address, Buckets: make([]graph.DisclosureBucket, len(s.Buckets))}
		for j, b := range s.Buckets {
			gb := graph.DisclosureBucket{
				Begin: b.Begin, Consumed: whPtr(b.ConsumedWh, p.ShareOnly), Retired: whPtr(b.RetiredWh, p.ShareOnly), Matched: whPtr(b.MatchedWh, p.ShareOnly),
				CoveredShare: b.Covered, UncoveredShare: b.Uncovered, Technologies: make([]graph.DisclosureTechnology, len(b.Technologies)),
			}
			for k, t := range b.Technologies {
				gb.Technologies[k] = graph.DisclosureTechnology{Technology: t.Technology, Amount: whPtr(t.Wh, p.ShareOnly), Share: t.Share}
			}
			gs.Buckets[j] = gb
		}
		out.Series[i] = gs
	}
	return out
}
