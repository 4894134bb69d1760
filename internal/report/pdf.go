package report

import (
	"fmt"
	"io"
	"sort"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"github.com/originhub/originhub/internal/declaration"
)

// Page geometry in mm (A4 portrait).
const (
	margin    = 15.0
	pageWidth = 210.0
	bodyWidth = pageWidth - 2*margin
	rowHeight = 6.0
)

// WritePDF writes the declaration as a PDF report: the title and period, the summary table
// (individual and general declaration side by side), the technology mix table, where the
// mix data came from, and a bar chart of consumption against the part matched by retired
// GGOs per hour, day or month (the finest that fits).
func WritePDF(w io.Writer, m Meta, d declaration.Declaration) error {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetMargins(margin, margin, margin)
	pdf.SetAutoPageBreak(true, margin)
	pdf.SetCreationDate(m.Generated)
	pdf.SetModificationDate(m.Generated)
	pdf.SetTitle(m.Title, true)
	pdf.SetCreator("OriginHub", false)
	tr := pdf.UnicodeTranslatorFromDescriptor("") // UTF-8 to the core fonts' cp1252
	r := &pdfWriter{pdf: pdf, tr: tr}
	pdf.AddPage()

	pdf.SetFont("Helvetica", "B", 18)
	pdf.CellFormat(bodyWidth, 10, tr(m.Title), "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	loc := m.loc()
	for _, line := range append([]string{m.Holder}, m.Lines...) {
		if line != "" {
			pdf.CellFormat(bodyWidth, 5, tr(line), "", 1, "L", false, 0, "")
		}
	}
	const day = "2006-01-02 15:04"
	pdf.CellFormat(bodyWidth, 5, tr(fmt.Sprintf("Period: %s – %s (%s)", m.From.In(loc).Format(day), m.To.In(loc).Format(day), loc)), "", 1, "L", false, 0, "")
	pdf.CellFormat(bodyWidth, 5, tr("Generated: "+m.Generated.In(loc).Format(day)), "", 1, "L", false, 0, "")

	r.summary(d)
	r.technologies(d)
	r.sources(d)
	if err := r.chart(d, loc); err != nil {
		return err
	}
	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("write pdf: %w", err)
	}
	return nil
}

type pdfWriter struct {
	pdf *fpdf.Fpdf
	tr  func(string) string
}

func (r *pdfWriter) heading(s string) {
	r.pdf.Ln(4)
	r.pdf.SetFont("Helvetica", "B", 13)
	r.pdf.CellFormat(bodyWidth, 8, r.tr(s), "", 1, "L", false, 0, "")
}

// row writes one table row; the first cell is left-aligned, the rest right-aligned.
func (r *pdfWriter) row(widths []float64, cells []string, bold, fill bool) {
	style := ""
	if bold {
		style = "B"
	}
	r.pdf.SetFont("Helvetica", style, 10)
	r.pdf.SetFillColor(235, 240, 235)
	for i, c := range cells {
		align := "R"
		if i == 0 {
			align = "L"
		}
		r.pdf.CellFormat(widths[i], rowHeight, r.tr(c), "B", 0, align, fill, 0, "")
	}
	r.pdf.Ln(-1)
}

func (r *pdfWriter) summary(d declaration.Declaration) {
	ind, gen := d.Individual, d.General
	unit := energyUnit(ind.ConsumedWh)
	e := func(wh int64) string { return energy(wh, ind.ConsumedWh) }
	r.heading("Summary")
	widths := []float64{80, 50, 50}
	r.row(widths, []string{"", "Individual", "General (grid)"}, true, true)
	rows := [][]string{
		{"Consumption (" + unit + ")", e(ind.ConsumedWh), e(gen.ConsumedWh)},
		{"Retired GGOs (" + unit + ")", e(ind.RetiredWh), "–"},
		{"Matched hour by hour (" + unit + ")", e(ind.MatchedWh), "–"},
		{"24/7 matched share (%)", ind.Matched().Percent(2), "–"},
		{"Retired above consumption (" + unit + ")", e(ind.ExcessWh), "–"},
		{"Energy without mix data (" + unit + ")", e(ind.UndeclaredWh), e(gen.UndeclaredWh)},
		{"Emissions (kg CO2-eq)", kilograms(ind.EmissionsUG), kilograms(gen.EmissionsUG)},
		{"Emission intensity (g CO2-eq/kWh)", ind.Intensity().Decimal(3), gen.Intensity().Decimal(3)},
	}
	for _, row := range rows {
		r.row(widths, row, false, false)
	}
}

func (r *pdfWriter) technologies(d declaration.Declaration) {
	ind, gen := d.Individual, d.General
	unit := energyUnit(ind.ConsumedWh)
	r.heading("Technology mix")
	widths := []float64{50, 35, 25, 35, 35}
	r.row(widths, []string{"Technology", "Individual (" + unit + ")", "Share (%)", "General (" + unit + ")", "Share (%)"}, true, true)
	iw, gw := map[string]int64{}, map[string]int64{}
	var names []string
	for _, t := range ind.Technologies {
		iw[t.Technology] = t.Wh
		names = append(names, t.Technology)
	}
	for _, t := range gen.Technologies {
		if _, ok := iw[t.Technology]; !ok {
			names = append(names, t.Technology)
		}
		gw[t.Technology] = t.Wh
	}
	sort.Strings(names)
	for _, n := range names {
		r.row(widths, []string{
			n,
			energy(iw[n], ind.ConsumedWh), declaration.Ratio{Num: iw[n], Den: ind.ConsumedWh}.Percent(2),
			energy(gw[n], ind.ConsumedWh), declaration.Ratio{Num: gw[n], Den: gen.ConsumedWh}.Percent(2),
		}, false, false)
	}
}

// sources says how many sector-hours used hourly, default or no mix data: a declaration
// on default figures must say so.
func (r *pdfWriter) sources(d declaration.Declaration) {
	r.heading("Mix data")
	r.pdf.SetFont("Helvetica", "", 10)
	for _, line := range []string{
		"Residual mix, sector-hours: " + useCounts(d, true) + ".",
		"Grid mix, sector-hours: " + useCounts(d, false) + ".",
		"Default mixes are indicative annual figures; energy in hours without any mix data is declared as Unknown, without emissions.",
	} {
		r.pdf.MultiCell(bodyWidth, 5, r.tr(line), "", "L", false)
	}
}

// chart draws consumption (grey) against matched consumption (green) per period, with the
// largest consumption as the scale.
func (r *pdfWriter) chart(d declaration.Declaration, loc *time.Location) error {
	res, label := declaration.Hour, "Hourly"
	if hoursSpanned(d) > 96 {
		res, label = declaration.Day, "Daily"
	}
	periods, err := d.Periods(res, loc)
	if err != nil {
		return fmt.Errorf("chart periods: %w", err)
	}
	if len(periods) > 366 {
		res, label = declaration.Month, "Monthly"
		if periods, err = d.Periods(res, loc); err != nil {
			return fmt.Errorf("chart periods: %w", err)
		}
	}
	const height = 60.0
	pdf := r.pdf
	_, pageHeight := pdf.GetPageSize()
	if pdf.GetY()+height+30 > pageHeight-margin {
		pdf.AddPage()
	}
	r.heading(label + " coverage: consumption and matched by retired GGOs")
	if len(periods) == 0 {
		pdf.SetFont("Helvetica", "", 10)
		pdf.CellFormat(bodyWidth, 5, "No consumption in the period.", "", 1, "L", false, 0, "")
		return nil
	}
	var peak int64
	for _, p := range periods {
		peak = max(peak, p.Individual.ConsumedWh)
	}
	x0, y0 := margin+20, pdf.GetY()+2
	w := bodyWidth - 20
	pdf.SetDrawColor(120, 120, 120)
	pdf.SetLineWidth(0.2)
	pdf.Line(x0, y0, x0, y0+height)
	pdf.Line(x0, y0+height, x0+w, y0+height)
	pdf.SetFont("Helvetica", "", 7)
	unit := energyUnit(peak)
	pdf.Text(margin, y0+3, energy(peak, peak))
	pdf.Text(margin, y0+6, unit)
	pdf.Text(margin, y0+height, "0")
	bar := w / float64(len(periods))
	for i, p := range periods {
		x := x0 + float64(i)*bar + bar*0.1
		if peak > 0 {
			// Bar heights are the only place amounts become floats: a drawing coordinate.
			hc := height * float64(p.Individual.ConsumedWh) / float64(peak)
			hm := height * float64(p.Individual.MatchedWh) / float64(peak)
			pdf.SetFillColor(200, 200, 200)
			pdf.Rect(x, y0+height-hc, bar*0.8, hc, "F")
			pdf.SetFillColor(46, 139, 87)
			pdf.Rect(x, y0+height-hm, bar*0.8, hm, "F")
		}
	}
	first, last := periods[0].Start, periods[len(periods)-1].Start
	pdf.Text(x0, y0+height+4, periodLabel(first, res))
	lastLabel := periodLabel(last, res)
	pdf.Text(x0+w-pdf.GetStringWidth(lastLabel), y0+height+4, lastLabel)
	pdf.SetY(y0 + height + 7)
	pdf.SetFont("Helvetica", "", 9)
	pdf.SetFillColor(200, 200, 200)
	pdf.Rect(x0, pdf.GetY()+1, 3, 3, "F")
	pdf.SetX(x0 + 4)
	pdf.CellFormat(40, 5, "Consumption", "", 0, "L", false, 0, "")
	pdf.SetFillColor(46, 139, 87)
	pdf.Rect(x0+45, pdf.GetY()+1, 3, 3, "F")
	pdf.SetX(x0 + 49)
	pdf.CellFormat(80, 5, "Matched by retired GGOs", "", 1, "L", false, 0, "")
	return nil
}

func hoursSpanned(d declaration.Declaration) int {
	if len(d.Hours) == 0 {
		return 0
	}
	return int(d.Hours[len(d.Hours)-1].Hour.Sub(d.Hours[0].Hour)/time.Hour) + 1
}

func periodLabel(t time.Time, res declaration.Resolution) string {
	switch res {
	case declaration.Hour:
		return t.Format("2006-01-02 15:04")
	case declaration.Day:
		return t.Format("2006-01-02")
	}
	return t.Format("2006-01")
}
