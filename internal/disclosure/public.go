package disclosure

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/originhub/originhub/internal/declaration"
	"github.com/originhub/originhub/models"
)

// PublicQuery is what an anonymous reader asks of a disclosure.
type PublicQuery struct {
	// Resolution is the requested bucket size; empty picks one by the span. A resolution
	// finer than the disclosure's maximum is coarsened to the maximum.
	Resolution models.DisclosureResolution
	// From and To narrow the range (clamped into the disclosure's period); zero for all.
	From, To time.Time
	// TimeZone is the IANA zone buckets are cut in (default UTC).
	TimeZone string
}

// Public is a disclosure as anyone may read it: nothing here is hidden by its settings.
// Amounts are zero in share-only mode (ShareOnly tells callers to present shares only).
type Public struct {
	PublicID, Description string
	From, To              time.Time
	State                 models.DisclosureState
	MaxResolution         models.DisclosureResolution
	Resolution            models.DisclosureResolution
	TimeZone              string
	ShareOnly             bool
	PerMeteringPoint      bool
	Series                []Series
}

// Series is one point's series (per-point mode) or the aggregate. GSRN and Address are set
// only when the owner shows them.
type Series struct {
	GSRN, Address *string
	Buckets       []Bucket
}

// Bucket is one period of a series.
type Bucket struct {
	Begin                            time.Time
	ConsumedWh, RetiredWh, MatchedWh int64
	// Covered is MatchedWh/ConsumedWh and Uncovered 1 − Covered, 6 decimals; nil when
	// nothing was consumed.
	Covered, Uncovered *string
	// CoveredPPM is the covered share in parts per million (0 when nothing was consumed).
	CoveredPPM int64
	// Technologies are the GGOs retired in the bucket by technology label, sorted by label.
	Technologies []TechAmount
}

// TechAmount is an amount of one technology and its share of the bucket's retired GGOs
// (6 decimals).
type TechAmount struct {
	Technology string
	Wh         int64
	Share      string
}

// maxBuckets bounds one answer (buckets × series): ask for a coarser resolution or a
// shorter range instead.
const maxBuckets = 100_000

// Public returns the disclosure publicID as anyone may read it.
//
// Errors: ErrNotFound (unknown or malformed id), ErrInvalidInput (bad time zone or
// range, or too many buckets), database errors wrapped.
func (s *Service) Public(ctx context.Context, publicID string, q PublicQuery) (Public, error) {
	var p Public
	if !ValidPublicID(publicID) {
		return p, ErrNotFound
	}
	var d models.Disclosure
	err := s.db.NewSelect().Model(&d).Where("d.public_id = ?", publicID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return p, ErrNotFound
	}
	if err != nil {
		return p, fmt.Errorf("load disclosure: %w", err)
	}
	if q.TimeZone == "" {
		q.TimeZone = "UTC"
	}
	if _, err := time.LoadLocation(q.TimeZone); err != nil || strings.EqualFold(q.TimeZone, "local") {
		return p, &InputError{Field: "timeZone", Message: "unknown time zone " + q.TimeZone}
	}
	from, to := d.Begin, d.End
	if !q.From.IsZero() && q.From.After(from) {
		from = q.From.UTC()
	}
	if !q.To.IsZero() && q.To.Before(to) {
		to = q.To.UTC()
	}
	if !from.Before(to) {
		return p, &InputError{Field: "begin", Message: "the range does not overlap the disclosure's period"}
	}
	res := q.Resolution
	if rank(res) < 0 {
		res = bySpan(to.Sub(from))
	}
	if rank(res) < rank(d.MaxResolution) {
		res = d.MaxResolution // never finer than the owner allows
	}
	p = Public{
		PublicID: d.PublicID, Description: d.Description, From: d.Begin, To: d.End, State: d.State,
		MaxResolution: d.MaxResolution, Resolution: res, TimeZone: q.TimeZone, ShareOnly: d.ShareOnly, PerMeteringPoint: d.PerMeteringPoint,
	}
	if err := s.loadSeries(ctx, &p, d, from, to); err != nil {
		return Public{}, err
	}
	for i := range p.Series {
		for j := range p.Series[i].Buckets {
			b := &p.Series[i].Buckets[j]
			b.shares()
			if d.ShareOnly {
				// Amounts leave this package only as shares: keep the ratios, drop the scale.
				b.ConsumedWh, b.RetiredWh, b.MatchedWh = 0, 0, 0
				for k := range b.Technologies {
					b.Technologies[k].Wh = 0
				}
			}
		}
	}
	return p, nil
}

// shares computes the bucket's shares from its exact amounts.
func (b *Bucket) shares() {
	if b.ConsumedWh > 0 {
		c := declaration.Ratio{Num: b.MatchedWh, Den: b.ConsumedWh}.Decimal(6)
		u := declaration.Ratio{Num: b.ConsumedWh - b.MatchedWh, Den: b.ConsumedWh}.Decimal(6)
		b.Covered, b.Uncovered = &c, &u
		b.CoveredPPM = declaration.Ratio{Num: b.MatchedWh, Den: b.ConsumedWh}.PPM()
	}
	var retired int64
	for _, t := range b.Technologies {
		retired += t.Wh
	}
	for k := range b.Technologies {
		b.Technologies[k].Share = declaration.Ratio{Num: b.Technologies[k].Wh, Den: retired}.Decimal(6)
	}
}

// bySpan picks a resolution for a range when the reader names none.
func bySpan(span time.Duration) models.DisclosureResolution {
	switch days := span / (24 * time.Hour); {
	case days >= 1095:
		return models.DisclosureYear
	case days >= 60:
		return models.DisclosureMonth
	case days >= 3:
		return models.DisclosureDay
	}
	return models.DisclosureHour
}

func (s *Service) loadSeries(ctx context.Context, p *Public, d models.Disclosure, from, to time.Time) error {
	unit := strings.ToLower(string(p.Resolution))
	// In aggregate mode every point is series 0, so nothing per point is even selected.
	series := "0"
	if d.PerMeteringPoint {
		series = "dm.position"
	}
	var hours []struct {
		Series   int       `bun:"series"`
		Bucket   time.Time `bun:"bucket"`
		Consumed int64     `bun:"consumed_wh"`
		Retired  int64     `bun:"retired_wh"`
		Matched  int64     `bun:"matched_wh"`
	}
	if err := s.db.NewRaw(`SELECT `+series+` AS series, date_trunc(?, h.begin_at, ?) AS bucket,
		sum(h.consumed_wh)::bigint AS consumed_wh, sum(h.retired_wh)::bigint AS retired_wh, sum(h.matched_wh)::bigint AS matched_wh
		FROM disclosure_hours h JOIN disclosure_metering_points dm ON dm.disclosure_id = h.disclosure_id AND dm.metering_point_id = h.metering_point_id
		WHERE h.disclosure_id = ? AND h.begin_at >= ? AND h.begin_at < ?
		GROUP BY 1, 2 ORDER BY 1, 2 LIMIT ?`, unit, p.TimeZone, d.ID, from, to, maxBuckets+1).Scan(ctx, &hours); err != nil {
		return fmt.Errorf("load disclosure series: %w", err)
	}
	if len(hours) > maxBuckets {
		return &InputError{Field: "resolution", Message: fmt.Sprintf("more than %d buckets: use a coarser resolution or a shorter range", maxBuckets)}
	}
	var techs []struct {
		Series     int       `bun:"series"`
		Bucket     time.Time `bun:"bucket"`
		Technology string    `bun:"technology"`
		Wh         int64     `bun:"amount_wh"`
	}
	if err := s.db.NewRaw(`SELECT `+series+` AS series, date_trunc(?, r.begin_at, ?) AS bucket, r.technology, sum(r.amount_wh)::bigint AS amount_wh
		FROM disclosure_retired r JOIN disclosure_metering_points dm ON dm.disclosure_id = r.disclosure_id AND dm.metering_point_id = r.metering_point_id
		WHERE r.disclosure_id = ? AND r.begin_at >= ? AND r.begin_at < ?
		GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`, unit, p.TimeZone, d.ID, from, to).Scan(ctx, &techs); err != nil {
		return fmt.Errorf("load disclosure technologies: %w", err)
	}
	type key struct {
		series int
		bucket int64
	}
	index := map[key]*Bucket{}
	bySeries := map[int]*Series{}
	var order []int
	if d.PerMeteringPoint {
		pts, err := s.seriesPoints(ctx, d)
		if err != nil {
			return err
		}
		for _, pt := range pts {
			sr := &Series{}
			if d.ShowGsrn {
				g := pt.GSRN
				sr.GSRN = &g
			}
			if d.ShowAddress {
				a := pt.address()
				sr.Address = &a
			}
			bySeries[pt.Position] = sr
			order = append(order, pt.Position)
		}
	} else {
		bySeries[0] = &Series{}
		order = []int{0}
	}
	for _, h := range hours {
		sr := bySeries[h.Series]
		if sr == nil {
			continue
		}
		sr.Buckets = append(sr.Buckets, Bucket{Begin: h.Bucket.UTC(), ConsumedWh: h.Consumed, RetiredWh: h.Retired, MatchedWh: h.Matched})
	}
	for _, n := range order {
		sr := bySeries[n]
		for i := range sr.Buckets {
			index[key{n, sr.Buckets[i].Begin.Unix()}] = &sr.Buckets[i]
		}
	}
	for _, t := range techs {
		if b := index[key{t.Series, t.Bucket.UTC().Unix()}]; b != nil {
			b.Technologies = append(b.Technologies, TechAmount{Technology: t.Technology, Wh: t.Wh})
		}
	}
	for _, n := range order {
		p.Series = append(p.Series, *bySeries[n])
	}
	return nil
}

type seriesPoint struct {
	Position       int    `bun:"position"`
	GSRN           string `bun:"gsrn"`
	StreetName     string `bun:"street_name"`
	BuildingNumber string `bun:"building_number"`
	Postcode       string `bun:"postcode"`
	CityName       string `bun:"city_name"`
}

func (p seriesPoint) address() string {
	street := strings.TrimSpace(p.StreetName + " " + p.BuildingNumber)
	city := strings.TrimSpace(p.Postcode + " " + p.CityName)
	switch {
	case street == "":
		return city
	case city == "":
		return street
	}
	return street + ", " + city
}

// seriesPoints loads the disclosed points in series order; the caller decides which of
// their fields become public.
func (s *Service) seriesPoints(ctx context.Context, d models.Disclosure) ([]seriesPoint, error) {
	var pts []seriesPoint
	if err := s.db.NewRaw(`SELECT dm.position, mp.gsrn, mp.street_name, mp.building_number, mp.postcode, mp.city_name
		FROM disclosure_metering_points dm JOIN metering_points mp ON mp.id = dm.metering_point_id
		WHERE dm.disclosure_id = ? ORDER BY dm.position`, d.ID).Scan(ctx, &pts); err != nil {
		return nil, fmt.Errorf("load disclosure points: %w", err)
	}
	return pts, nil
}
