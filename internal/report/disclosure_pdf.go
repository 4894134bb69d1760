package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"github.com/originhub/originhub/internal/declaration"
)

// DisclosureReport is what a disclosure's PDF shows: exactly its public data.
type DisclosureReport struct {
	Description string
	// PublicID identifies the disclosure in the header.
	PublicID   string
	From, To   time.Time
	Location   *time.Location
	Resolution string // HOUR, DAY, MONTH or YEAR
	// ShareOnly leaves every absolute amount out.
	ShareOnly bool
	Generated time.Time
	Series    []DisclosureSeries
}

// DisclosureSeries is one series: Label is its GSRN/address when public, else "Series n".
type DisclosureSeries struct {
	Label   string
	Buckets []DisclosureBucket
}

// DisclosureBucket is one period of a series.
type DisclosureBucket struct {
	Begin                            time.Time
	ConsumedWh, RetiredWh, MatchedWh int64
	// CoveredPPM is matched / consumed in parts per million.
	CoveredPPM int64
	// Mix is the retired GGOs' technology shares, e.g. "Wind 75.00 %, Solar 25.00 %".
	Mix string
}

// maxDisclosureRows bounds the table of one series; the chart and the CSV cover every
// bucket, and the PDF says when its table stops early.
const maxDisclosureRows = 400

// WriteDisclosurePDF writes a disclosure report: the header, and per series a chart of the
// covered share per bucket and a table of the buckets (amounts only when not share-only).
func WriteDisclosurePDF(w io.Writer, r DisclosureReport) error {
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetMargins(margin, margin, margin)
	pdf.SetAutoPageBreak(true, margin)
	pdf.SetCreationDate(r.Generated)
	pdf.SetModificationDate(r.Generated)
	pdf.SetTitle("Disclosure", true)
	pdf.SetCreator("OriginHub", false)
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	pw := &pdfWriter{pdf: pdf, tr: tr}
	pdf.AddPage()
	pdf.SetFont("Helvetica", "B", 18)
	pdf.CellFormat(bodyWidth, 10, "Disclosure", "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	if r.Description != "" {
		pdf.MultiCell(bodyWidth, 5, tr(r.Description), "", "L", false)
	}
	const day = "2006-01-02 15:04"
	for _, line := range []string{
		"Disclosure " + r.PublicID,
		fmt.Sprintf("Period: %s – %s (%s), resolution %s", r.From.In(loc).Format(day), r.To.In(loc).Format(day), loc, strings.ToLower(r.Resolution)),
		"Generated: " + r.Generated.In(loc).Format(day),
	} {
		pdf.CellFormat(bodyWidth, 5, tr(line), "", 1, "L", false, 0, "")
	}
	if r.ShareOnly {
		pdf.CellFormat(bodyWidth, 5, "The owner publishes shares only: no absolute amounts.", "", 1, "L", false, 0, "")
	}
	if len(r.Series) == 0 {
		pw.heading("No data")
	}
	for _, s := range r.Series {
		pw.heading(s.Label)
		pw.coverageChart(s, loc, r.Resolution)
		widths := []float64{32, 24, 24, 22, 78}
		head := []string{"Period", "Consumed kWh", "Retired kWh", "Covered %", "Retired GGOs by technology"}
		if r.ShareOnly {
			widths = []float64{40, 30, 110}
			head = []string{"Period", "Covered %", "Retired GGOs by technology"}
		}
		pdf.SetFont("Helvetica", "", 8)
		pw.row(widths, head, true, true)
		for i, b := range s.Buckets {
			if i == maxDisclosureRows {
				pdf.SetFont("Helvetica", "I", 9)
				pdf.CellFormat(bodyWidth, 5, tr(fmt.Sprintf("Table shows the first %d of %d periods; the CSV download has all of them.", maxDisclosureRows, len(s.Buckets))), "", 1, "L", false, 0, "")
				break
			}
			covered := "–"
			if r.ShareOnly || b.ConsumedWh > 0 {
				covered = declaration.Ratio{Num: b.CoveredPPM, Den: 1_000_000}.Percent(2)
			}
			cells := []string{disclosureLabel(b.Begin.In(loc), r.Resolution), kWh(b.ConsumedWh), kWh(b.RetiredWh), covered, b.Mix}
			if r.ShareOnly {
				cells = []string{cells[0], covered, b.Mix}
			}
			pdf.SetFont("Helvetica", "", 8)
			pw.row(widths, cells, false, false)
		}
	}
	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("write pdf: %w", err)
	}
	return nil
}

func disclosureLabel(t time.Time, res string) string {
	switch res {
	case "HOUR":
		return t.Format("2006-01-02 15:04")
	case "DAY":
		return t.Format("2006-01-02")
	case "MONTH":
		return t.Format("2006-01")
	}
	return t.Format("2006")
}

// coverageChart draws the covered share (0–100 %) of each bucket as a bar.
func (r *pdfWriter) coverageChart(s DisclosureSeries, loc *time.Location, res string) {
	const height = 40.0
	pdf := r.pdf
	if len(s.Buckets) == 0 {
		pdf.SetFont("Helvetica", "", 10)
		pdf.CellFormat(bodyWidth, 5, "No data in the period.", "", 1, "L", false, 0, "")
		return
	}
	_, pageHeight := pdf.GetPageSize()
	if pdf.GetY()+height+20 > pageHeight-margin {
		pdf.AddPage()
	}
	pdf.SetFont("Helvetica", "", 9)
	pdf.CellFormat(bodyWidth, 5, "Share of consumption covered by retired GGOs, per period", "", 1, "L", false, 0, "")
	x0, y0 := margin+12, pdf.GetY()+2
	w := bodyWidth - 12
	pdf.SetDrawColor(120, 120, 120)
	pdf.SetLineWidth(0.2)
	pdf.Line(x0, y0, x0, y0+height)
	pdf.Line(x0, y0+height, x0+w, y0+height)
	pdf.SetFont("Helvetica", "", 7)
	pdf.Text(margin, y0+3, "100 %")
	pdf.Text(margin, y0+height, "0 %")
	bar := w / float64(len(s.Buckets))
	pdf.SetFillColor(46, 139, 87)
	for i, b := range s.Buckets {
		// A drawing coordinate: the only place a share becomes a float.
		h := height * float64(b.CoveredPPM) / 1_000_000
		pdf.Rect(x0+float64(i)*bar+bar*0.1, y0+height-h, bar*0.8, h, "F")
	}
	first, last := disclosureLabel(s.Buckets[0].Begin.In(loc), res), disclosureLabel(s.Buckets[len(s.Buckets)-1].Begin.In(loc), res)
	pdf.Text(x0, y0+height+4, first)
	pdf.Text(x0+w-pdf.GetStringWidth(last), y0+height+4, last)
	pdf.SetY(y0 + height + 7)
}
