package eloverblik

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"
	_ "time/tzdata" // Europe/Copenhagen must resolve on machines without zoneinfo
)

// MeteringPoints lists the metering points the customer identified by
// customerKey has given this third party access to (scope customerKey).
// Entries that cannot be read are logged and left out. Errors: as for
// DataAccessToken, plus *APIError and ErrMalformedResponse.
func (c *Client) MeteringPoints(ctx context.Context, customerKey string) ([]MeteringPoint, error) {
	path := "/api/Authorization/Authorization/MeteringPoints/customerKey/" + url.PathEscape(customerKey)
	resp, err := c.do(ctx, request{method: "GET", base: c.base, path: path, auth: authData})
	if err != nil {
		return nil, fmt.Errorf("get metering points: %w", err)
	}
	defer resp.Body.Close()
	points, problems, err := ParseMeteringPoints(resp.Body)
	if err != nil {
		return nil, err
	}
	for _, p := range problems {
		c.log.WarnContext(ctx, "eloverblik metering point skipped", "error", p)
	}
	return points, nil
}

// Authorizations lists the consents given to this third party.
func (c *Client) Authorizations(ctx context.Context) ([]Authorization, error) {
	resp, err := c.do(ctx, request{method: "GET", base: c.base, path: "/api/Authorization/Authorizations", auth: authData})
	if err != nil {
		return nil, fmt.Errorf("get authorizations: %w", err)
	}
	defer resp.Body.Close()
	auths, problems, err := ParseAuthorizations(resp.Body)
	if err != nil {
		return nil, err
	}
	for _, p := range problems {
		c.log.WarnContext(ctx, "eloverblik authorization skipped", "error", p)
	}
	return auths, nil
}

// copenhagen is where ElOverblik's dates live: a date in the time-series
// path means Danish midnight to Danish midnight.
func copenhagen() *time.Location {
	loc, err := time.LoadLocation("Europe/Copenhagen")
	if err != nil {
		// time/tzdata is linked in, so this cannot happen; fall back to
		// standard time rather than fail.
		return time.FixedZone("CET", 3600)
	}
	return loc
}

// TimeSeriesDates returns the path dates for the window [from, to): the
// Danish date of from, and the Danish date after the last hour before to
// (ElOverblik's end date is exclusive).
func TimeSeriesDates(from, to time.Time) (dateFrom, dateTo string) {
	loc := copenhagen()
	f := from.In(loc)
	t := to.In(loc)
	end := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	if end.Before(t) {
		end = end.AddDate(0, 0, 1)
	}
	return f.Format("2006-01-02"), end.Format("2006-01-02")
}

// TimeSeries streams the hourly readings of the given metering points in
// [from, to) into sink (readings outside the window, which ElOverblik sends
// because it works in whole Danish days, are dropped and not counted). It
// POSTs /api/MeterData/GetTimeSeries/{dateFrom}/{dateTo}/Hour with all GSRNs
// in one body.
//
// Retries happen only before the first byte of the body is read, so sink
// never sees a reading twice from one call; an error part-way through the
// body is returned as is, after the readings before it were delivered.
// Callers upsert by (gsrn, begin), so calling again is safe. Errors: as for
// DataAccessToken, *APIError, a malformed-document error (wrapping
// ErrMalformedResponse), or the error sink returned (wrapped).
func (c *Client) TimeSeries(ctx context.Context, gsrns []string, from, to time.Time, sink Sink) (Stats, error) {
	if len(gsrns) == 0 {
		return Stats{}, errors.New("time series: no gsrn")
	}
	if !to.After(from) {
		return Stats{}, fmt.Errorf("time series: window [%s, %s) is empty", from, to)
	}
	if sink.Reading == nil {
		return Stats{}, errors.New("time series: sink.Reading is nil")
	}
	df, dt := TimeSeriesDates(from, to)
	var body struct {
		MeteringPoints struct {
			MeteringPoint []string `json:"meteringPoint"`
		} `json:"meteringPoints"`
	}
	body.MeteringPoints.MeteringPoint = gsrns
	raw, err := json.Marshal(body)
	if err != nil {
		return Stats{}, fmt.Errorf("encode time series request: %w", err)
	}
	path := "/api/MeterData/GetTimeSeries/" + df + "/" + dt + "/Hour"
	resp, err := c.do(ctx, request{method: "POST", base: c.base, path: path, body: raw, auth: authData})
	if err != nil {
		return Stats{}, fmt.Errorf("get time series: %w", err)
	}
	defer resp.Body.Close()

	from, to = from.UTC(), to.UTC()
	var dropped, droppedProblems int64
	inner := sink.Reading
	windowed := Sink{
		Problem: func(e *ReadingError) error {
			// A problem about an hour outside the window concerns a reading
			// the caller would not have received anyway.
			if !e.Begin.IsZero() && (e.Begin.Before(from) || !e.Begin.Before(to)) {
				droppedProblems++
				return nil
			}
			if sink.Problem == nil {
				return nil
			}
			return sink.Problem(e)
		},
		Reading: func(r Reading) error {
			if r.Begin.Before(from) || !r.Begin.Before(to) {
				dropped++
				return nil
			}
			return inner(r)
		},
	}
	p, _ := c.parsers.Get().(*Parser)
	if p == nil {
		p = new(Parser)
	}
	stats, err := p.Parse(resp.Body, windowed)
	c.parsers.Put(p)
	stats.Readings -= dropped
	stats.Problems -= droppedProblems
	if err != nil {
		if errors.Is(err, errSyntax) {
			err = fmt.Errorf("%w: %w", ErrMalformedResponse, err)
		}
		return stats, fmt.Errorf("parse time series: %w", err)
	}
	return stats, nil
}

// EnergyType is a production point's technology and fuel codes (AIB EECS
// fact sheet 5), e.g. T020000 / F01050100 for wind.
type EnergyType struct {
	TechnologyCode string
	FuelCode       string
}

// EnergyType resolves a GSRN's technology and fuel codes with
// GET {EnergyTypeURL}/get-energy-type?gsrn=, the EnergyTypeService shape
// (§4.6); the real ThirdParty API does not expose them. Errors:
// ErrEnergyTypeUnavailable when the service answers success=false (do not
// retry), *APIError, ErrMalformedResponse, ctx's error.
func (c *Client) EnergyType(ctx context.Context, gsrn string) (EnergyType, error) {
	path := "/get-energy-type?gsrn=" + url.QueryEscape(gsrn)
	resp, err := c.do(ctx, request{method: "GET", base: c.energyBase, path: path, auth: authNone})
	if err != nil {
		return EnergyType{}, fmt.Errorf("get energy type: %w", err)
	}
	defer resp.Body.Close()
	var body struct {
		Success        *bool      `json:"success"`
		TechnologyCode flexString `json:"technologyCode"`
		FuelCode       flexString `json:"fuelCode"`
		Message        flexString `json:"message"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&body); err != nil {
		return EnergyType{}, fmt.Errorf("decode energy type: %w: %v", ErrMalformedResponse, err)
	}
	if body.Success == nil {
		return EnergyType{}, fmt.Errorf("decode energy type: %w: no success field", ErrMalformedResponse)
	}
	if !*body.Success {
		return EnergyType{}, fmt.Errorf("energy type of %s: %w: %s", gsrn, ErrEnergyTypeUnavailable, body.Message)
	}
	if body.TechnologyCode == "" || body.FuelCode == "" {
		return EnergyType{}, fmt.Errorf("decode energy type: %w: empty codes", ErrMalformedResponse)
	}
	return EnergyType{TechnologyCode: string(body.TechnologyCode), FuelCode: string(body.FuelCode)}, nil
}

// OnboardingParams are the query parameters of the consent URL (§4.2).
type OnboardingParams struct {
	ThirdPartyID     string
	FromDate, ToDate time.Time // the consent window; only the dates are sent
	CustomerKey      string    // the subject
	ReturnURL        string    // where ElOverblik sends the browser afterwards
}

// OnboardingURL builds the consent URL the user is sent to: base (the
// ELOVERBLIK_ONBOARDING_URL, or the simulator's …/sim/eloverblik/onboarding)
// with thirdPartyId, fromDate, toDate, customerKey and returnUrl, all
// query-escaped (the reference did not escape the subject).
func OnboardingURL(base string, p OnboardingParams) (string, error) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("onboarding url %q: must be an absolute http(s) URL", base)
	}
	if p.CustomerKey == "" || p.ReturnURL == "" {
		return "", errors.New("onboarding url: customer key and return url are required")
	}
	q := u.Query()
	q.Set("thirdPartyId", p.ThirdPartyID)
	q.Set("fromDate", p.FromDate.Format("2006-01-02"))
	q.Set("toDate", p.ToDate.Format("2006-01-02"))
	q.Set("customerKey", p.CustomerKey)
	q.Set("returnUrl", p.ReturnURL)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
