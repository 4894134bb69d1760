package download

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/originhub/originhub/internal/declaration"
	"github.com/originhub/originhub/internal/disclosure"
	"github.com/originhub/originhub/internal/report"
	"github.com/originhub/originhub/models"
)

// disclosureRoute is the pattern of public disclosure downloads (/disclosures/<id>.csv or
// .pdf).
const disclosureRoute = "GET /disclosures/{file}"

// disclosureFile serves a disclosure's public series as CSV (<id>.csv) or PDF (<id>.pdf):
// anyone with the public id may read it, exactly what disclosure.Service.Public returns and
// nothing more.
func (h *Handler) disclosureFile() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		file := r.PathValue("file")
		id, csvFile := strings.CutSuffix(file, ".csv")
		if !csvFile {
			var pdfFile bool
			if id, pdfFile = strings.CutSuffix(file, ".pdf"); !pdfFile {
				plain(w, http.StatusNotFound, "not found")
				return
			}
		}
		v := r.URL.Query()
		q := disclosure.PublicQuery{Resolution: models.DisclosureResolution(strings.ToUpper(v.Get("resolution"))), TimeZone: v.Get("timeZone")}
		for name, dst := range map[string]*time.Time{"gte": &q.From, "lt": &q.To} {
			if s := v.Get(name); s != "" {
				t, err := time.Parse(time.RFC3339, s)
				if err != nil {
					plain(w, http.StatusBadRequest, name+": an RFC 3339 time is required")
					return
				}
				*dst = t
			}
		}
		p, err := h.Disclosures.Public(r.Context(), id, q)
		switch {
		case errors.Is(err, disclosure.ErrNotFound):
			plain(w, http.StatusNotFound, "not found")
			return
		case errors.Is(err, disclosure.ErrInvalidInput):
			plain(w, http.StatusBadRequest, err.Error())
			return
		case err != nil:
			h.Log.ErrorContext(r.Context(), "disclosure download", "err", err)
			plain(w, http.StatusInternalServerError, "internal error")
			return
		}
		if csvFile {
			h.send(w, r, "text/csv; charset=utf-8", "disclosure.csv", func(b io.Writer) error { return WriteDisclosureCSV(b, p) })
			return
		}
		rep := disclosureReport(p, h.Clock())
		h.send(w, r, "application/pdf", "disclosure.pdf", func(b io.Writer) error { return report.WriteDisclosurePDF(b, rep) })
	})
}

// disclosureReport maps the public view onto the PDF's input; labels name a point only
// when the view does.
func disclosureReport(p disclosure.Public, now time.Time) report.DisclosureReport {
	loc, err := time.LoadLocation(p.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	rep := report.DisclosureReport{Description: p.Description, PublicID: p.PublicID, From: p.From, To: p.To, Location: loc,
		Resolution: string(p.Resolution), ShareOnly: p.ShareOnly, Generated: now}
	for i, s := range p.Series {
		var label []string
		if s.GSRN != nil {
			label = append(label, *s.GSRN)
		}
		if s.Address != nil {
			label = append(label, *s.Address)
		}
		if len(label) == 0 {
			label = []string{fmt.Sprintf("Series %d", i+1)}
			if !p.PerMeteringPoint {
				label = []string{"All metering points"}
			}
		}
		rs := report.DisclosureSeries{Label: strings.Join(label, ", ")}
		for _, b := range s.Buckets {
			var mix []string
			for _, t := range b.Technologies {
				mix = append(mix, t.Technology+" "+declaration.Ratio{Num: mustPPM(t.Share), Den: 1_000_000}.Percent(2)+" %")
			}
			rs.Buckets = append(rs.Buckets, report.DisclosureBucket{Begin: b.Begin, ConsumedWh: b.ConsumedWh, RetiredWh: b.RetiredWh,
				MatchedWh: b.MatchedWh, CoveredPPM: b.CoveredPPM, Mix: strings.Join(mix, ", ")})
		}
		rep.Series = append(rep.Series, rs)
	}
	return rep
}

// mustPPM reads a 6-decimal share ("0.750000") as parts per million; shares come from
// disclosure.Public, which always writes that shape.
func mustPPM(share string) int64 {
	whole, frac, _ := strings.Cut(share, ".")
	v, _ := strconv.ParseInt(whole+(frac + "000000")[:6], 10, 64)
	return v
}

// WriteDisclosureCSV writes a public disclosure: one row per series and bucket with the
// series number (1-based), the GSRN and address when shown, the bucket start (UTC), the
// covered and uncovered shares and each technology's share of the retired GGOs; unless the
// disclosure is share-only, also consumed, retired and matched kWh and each technology's
// kWh (exact, 3 decimals).
func WriteDisclosureCSV(w io.Writer, p disclosure.Public) error {
	techSet := map[string]bool{}
	for _, s := range p.Series {
		for _, b := range s.Buckets {
			for _, t := range b.Technologies {
				techSet[t.Technology] = true
			}
		}
	}
	techs := make([]string, 0, len(techSet))
	for t := range techSet {
		techs = append(techs, t)
	}
	sort.Strings(techs)
	head := []string{"series", "gsrn", "address", "begin_utc", "covered_share", "uncovered_share"}
	if !p.ShareOnly {
		head = append(head, "consumed_kwh", "retired_kwh", "matched_kwh")
	}
	for _, t := range techs {
		head = append(head, "share:"+t)
	}
	if !p.ShareOnly {
		for _, t := range techs {
			head = append(head, "kwh:"+t)
		}
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(head); err != nil {
		return fmt.Errorf("write csv header: %w", err)
	}
	deref := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	kwh := func(wh int64) string { return declaration.FormatScaled(wh, 3) }
	for i, s := range p.Series {
		for _, b := range s.Buckets {
			rec := []string{fmt.Sprint(i + 1), deref(s.GSRN), deref(s.Address), b.Begin.UTC().Format(time.RFC3339), deref(b.Covered), deref(b.Uncovered)}
			if !p.ShareOnly {
				rec = append(rec, kwh(b.ConsumedWh), kwh(b.RetiredWh), kwh(b.MatchedWh))
			}
			byTech := map[string]disclosure.TechAmount{}
			for _, t := range b.Technologies {
				byTech[t.Technology] = t
			}
			for _, t := range techs {
				share := "0.000000"
				if a, ok := byTech[t]; ok {
					share = a.Share
				}
				rec = append(rec, share)
			}
			if !p.ShareOnly {
				for _, t := range techs {
					rec = append(rec, kwh(byTech[t].Wh))
				}
			}
			if err := cw.Write(rec); err != nil {
				return fmt.Errorf("write csv row: %w", err)
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}
