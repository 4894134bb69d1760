package datahub

import (
	"errors"
	"html/template"
	"net/http"
)

var callbackPage = template.Must(template.New("callback").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>OriginHub · ElOverblik</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem}</style></head>
<body><h1>{{.Title}}</h1><p>{{.Message}}</p><p><a href="/graphiql/">Continue to OriginHub</a></p></body></html>`))

// CallbackHandler serves /onboarding/callback, where ElOverblik's onboarding sends the
// browser back with our state nonce and the user's decision (granted=true|false).
func (s *Service) CallbackHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		granted := q.Get("granted") == "true"
		_, err := s.CompleteOnboarding(r.Context(), q.Get("state"), granted)
		page := struct{ Title, Message string }{}
		status := http.StatusOK
		switch {
		case errors.Is(err, ErrInvalidCallback):
			status = http.StatusBadRequest
			page.Title, page.Message = "Link expired", "This answer does not match a pending request. Start the ElOverblik onboarding again from OriginHub."
		case err != nil:
			s.log.ErrorContext(r.Context(), "onboarding callback", "err", err)
			status = http.StatusInternalServerError
			page.Title, page.Message = "Something went wrong", "Your answer was recorded, but the import could not be started. It will be retried."
		case granted:
			page.Title, page.Message = "Access granted", "OriginHub is importing your metering points and readings now. Follow the progress in the importJobs query or the importProgress subscription."
		default:
			page.Title, page.Message = "Access declined", "OriginHub will not read your DataHub data."
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		w.WriteHeader(status)
		_ = callbackPage.Execute(w, page)
	})
}
