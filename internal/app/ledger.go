package app

import (
	"context"
	"fmt"
	"github.com/originhub/originhub/internal/account"
	"net/http"
	"strings"
	"time"

	"github.com/originhub/originhub/internal/ledger"
	"github.com/originhub/originhub/internal/ledger/outbox"
	"github.com/originhub/originhub/internal/ledger/publish"
	"github.com/originhub/originhub/internal/ledger/rest"
	"github.com/originhub/originhub/internal/ledger/standin"
	"github.com/originhub/originhub/internal/ledger/wallet"
	"github.com/originhub/originhub/tasks"
)

// StandinPrefix is where the stand-in ledger is mounted when LEDGER_URL is empty.
const StandinPrefix = "/sim/ledger"

// setUpLedger builds the wallets, the outbox and publication services, the REST client of
// the ledger and, without LEDGER_URL, the stand-in ledger served by this platform.
func (a *App) setUpLedger(ctx context.Context) error {
	sealer, err := ledger.NewSealer([]byte(a.Config.Secret.Reveal()))
	if err != nil {
		return err
	}
	a.Wallets = wallet.NewService(sealer)

	base := a.Config.Ledger.URL
	if base == "" {
		mode, err := standin.ParseMode(a.Config.Ledger.Mode)
		if err != nil {
			return err
		}
		a.Standin, err = standin.New(a.DB, standin.Options{
			Mode: mode, CommitDelay: a.Config.Ledger.CommitDelay, Logger: a.Log.With("component", "ledger-standin"),
		})
		if err != nil {
			return err
		}
		if err := a.Standin.Migrate(ctx); err != nil {
			return fmt.Errorf("migrate stand-in ledger: %w", err)
		}
		base = strings.TrimSuffix(a.Config.ProjectURL.String(), "/") + StandinPrefix
	}
	client := rest.New(base, &http.Client{Timeout: 30 * time.Second})

	backoff := outbox.Backoff{}
	if a.Standin != nil {
		// The first poll comes just after the stand-in's commit delay.
		backoff.First = a.Config.Ledger.CommitDelay + 50*time.Millisecond
	}
	a.Outbox = outbox.NewService(outbox.Deps{
		DB: a.DB, Ledger: client, Queue: tasks.Enqueuer{Client: a.Tasks}, Publisher: a.Bus,

		Backoff: backoff, PollEvery: a.Config.Ledger.PollInterval, Clock: a.Clock, Log: a.Log.With("component", "ledger-outbox"),
	})
	a.Account = account.NewService(a.DB, a.Wallets, a.Outbox, account.Config{}, a.Log.With("component", "account"), a.Clock)
	// Issued GGOs settle before their publication rows go.
	a.Outbox.Handle(publish.Kind, account.Chain(a.Account.IssueHooks(), publish.Hooks()))
	a.Outbox.Handle(account.OperationKind, a.Account.OperationHooks())
	a.Publisher = publish.NewService(a.DB, a.Wallets, a.Outbox, a.Account.Issue, a.Log)
	return nil
}

// runStandin applies the stand-in's due batches until ctx ends; a no-op with LEDGER_URL.
func (a *App) runStandin(ctx context.Context) error {
	if a.Standin == nil {
		return nil
	}
	return a.Standin.Run(ctx)
}
