package app

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/originhub/originhub/internal/disclosure"
	"github.com/originhub/originhub/internal/download"
	"github.com/originhub/originhub/internal/eco"
	"github.com/originhub/originhub/tasks"
)

// downloadLinkTTL is how long a signed report link in a GraphQL result stays valid: long
// enough to click, short enough that a leaked link is soon useless.
const downloadLinkTTL = 10 * time.Minute

// setUpReports builds the declaration and disclosure services and the download link signer.
func (a *App) setUpReports() {
	a.Eco = eco.NewService(a.DB)
	a.Disclosures = disclosure.NewService(a.DB, tasks.Enqueuer{Client: a.Tasks}, a.Log.With("component", "disclosure"), a.Clock)
	a.Signer = download.NewSigner(a.Config.Secret.Reveal(), strings.TrimSuffix(a.Config.ProjectURL.String(), "/"), downloadLinkTTL, a.Clock)
}

// downloadRoutes returns the report download routes; they authenticate each request
// themselves (signed link or Authorization header).
func (a *App) downloadRoutes() map[string]http.Handler {
	h := &download.Handler{
		Eco: a.Eco, Disclosures: a.Disclosures, Signer: a.Signer, Log: a.Log.With("component", "download"), Clock: a.Clock,
		Authenticate: func(ctx context.Context, authorization string) (int64, error) {
			s, err := a.verifier.VerifyHeader(ctx, authorization)
			if err != nil {
				return 0, err
			}
			u, err := a.Users.Ensure(ctx, s.ID)
			if err != nil {
				return 0, fmt.Errorf("ensure user: %w", err)
			}
			return u.ID, nil
		},
	}
	return h.Routes()
}
