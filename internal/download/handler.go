package download

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/originhub/originhub/internal/declaration"
	"github.com/originhub/originhub/internal/disclosure"
	"github.com/originhub/originhub/internal/eco"
	"github.com/originhub/originhub/internal/report"
)

// Paths of the declaration downloads.
const (
	DeclarationCSVPath = "/reports/declaration.csv"
	DeclarationPDFPath = "/reports/declaration.pdf"
)

// Authenticator turns an Authorization header value into the caller's user id. Its errors
// must be safe to show to the client.
type Authenticator func(ctx context.Context, authorization string) (userID int64, err error)

// Handler serves report downloads.
type Handler struct {
	Eco          *eco.Service
	Disclosures  *disclosure.Service
	Signer       *Signer
	Authenticate Authenticator
	Log          *slog.Logger
	Clock        func() time.Time
}

// Routes returns the download routes by net/http pattern, for api.Deps.Mounts.
func (h *Handler) Routes() map[string]http.Handler {
	return map[string]http.Handler{
		"GET " + DeclarationCSVPath: h.declaration(DeclarationCSVPath, "text/csv; charset=utf-8", report.WriteCSV),
		"GET " + DeclarationPDFPath: h.declaration(DeclarationPDFPath, "application/pdf", report.WritePDF),
		disclosureRoute:             h.disclosureFile(),
	}
}

// DeclarationURL returns the signed link of the declaration q of userID at path.
func (h *Handler) DeclarationURL(path string, q eco.Query, userID int64) string {
	return h.Signer.URL(path, DeclarationParams(q), userID)
}

// DeclarationParams encodes q as download query parameters.
func DeclarationParams(q eco.Query) url.Values {
	v := url.Values{}
	for _, g := range q.GSRNs {
		v.Add("gsrn", g)
	}
	v.Set("gte", q.From.UTC().Format(time.RFC3339))
	v.Set("lt", q.To.UTC().Format(time.RFC3339))
	if q.TimeZone != "" {
		v.Set("timeZone", q.TimeZone)
	}
	v.Set("resolution", q.Resolution.String())
	return v
}

// ParseDeclarationParams reads the parameters DeclarationParams wrote.
//
// Errors: eco.ErrInvalidInput.
func ParseDeclarationParams(v url.Values) (eco.Query, error) {
	q := eco.Query{GSRNs: v["gsrn"], TimeZone: v.Get("timeZone"), Resolution: declaration.All}
	var err error
	if q.From, err = time.Parse(time.RFC3339, v.Get("gte")); err != nil {
		return q, &eco.InputError{Field: "gte", Message: "an RFC 3339 time is required"}
	}
	if q.To, err = time.Parse(time.RFC3339, v.Get("lt")); err != nil {
		return q, &eco.InputError{Field: "lt", Message: "an RFC 3339 time is required"}
	}
	if r := v.Get("resolution"); r != "" {
		if q.Resolution, err = declaration.ParseResolution(r); err != nil {
			return q, &eco.InputError{Field: "resolution", Message: "one of hour, day, month, year, all"}
		}
	}
	return q, nil
}

// user authenticates a download: a signed link, else the Authorization header.
func (h *Handler) user(r *http.Request, path string) (int64, int, string) {
	v := r.URL.Query()
	if Signed(v) {
		uid, err := h.Signer.Verify(path, v)
		if err != nil {
			return 0, http.StatusForbidden, err.Error()
		}
		return uid, 0, ""
	}
	authz := r.Header.Get("Authorization")
	if authz == "" {
		return 0, http.StatusUnauthorized, "send Authorization: Bearer <token>, or use the signed link from the GraphQL result"
	}
	uid, err := h.Authenticate(r.Context(), authz)
	if err != nil {
		return 0, http.StatusUnauthorized, err.Error()
	}
	return uid, 0, ""
}

type writer func(w io.Writer, m report.Meta, d declaration.Declaration) error

func (h *Handler) declaration(path, contentType string, write writer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		uid, status, msg := h.user(r, path)
		if status != 0 {
			plain(w, status, msg)
			return
		}
		q, err := ParseDeclarationParams(r.URL.Query())
		if err == nil {
			var res eco.Result
			res, err = h.Eco.Declare(r.Context(), uid, q)
			if err == nil {
				lines := make([]string, 0, len(res.Points))
				for _, p := range res.Points {
					lines = append(lines, p.GSRN+" ("+string(p.Sector)+")")
				}
				m := report.Meta{
					Title: "Environmental declaration", Lines: []string{"Metering points: " + strings.Join(lines, ", ")},
					From: res.From, To: res.To, Location: res.Location, Generated: h.Clock(),
				}
				h.send(w, r, contentType, "declaration"+path[strings.LastIndexByte(path, '.'):], func(b io.Writer) error { return write(b, m, res.Declaration) })
				return
			}
		}
		if errors.Is(err, eco.ErrInvalidInput) {
			plain(w, http.StatusBadRequest, err.Error())
			return
		}
		h.Log.ErrorContext(r.Context(), "declaration download", "err", err)
		plain(w, http.StatusInternalServerError, "internal error")
	})
}

// send renders into memory first, so a failure half-way is a clean 500 rather than a
// truncated file.
func (h *Handler) send(w http.ResponseWriter, r *http.Request, contentType, filename string, render func(io.Writer) error) {
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		h.Log.ErrorContext(r.Context(), "render report", "err", err, "file", filename)
		plain(w, http.StatusInternalServerError, "internal error")
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(buf.Bytes())
}

func plain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n")
}

// DisclosureCSVPath is the public CSV download of the disclosure publicID.
func DisclosureCSVPath(publicID string) string {
	return "/disclosures/" + url.PathEscape(publicID) + ".csv"
}

// DisclosurePDFPath is the public PDF report of the disclosure publicID.
func DisclosurePDFPath(publicID string) string {
	return "/disclosures/" + url.PathEscape(publicID) + ".pdf"
}
