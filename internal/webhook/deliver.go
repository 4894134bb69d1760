package webhook

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/models"
)

const (
	// maxResponseRead caps how much of a receiver's answer is read (and then dropped), so
	// a receiver cannot make us buffer a large body; the connection is reused when it fits.
	maxResponseRead = 64 << 10
	// maxErrorText caps the error text stored per attempt.
	maxErrorText = 500
	userAgent    = "OriginHub-Webhook/1"
)

// outcome is what one attempt produced.
type outcome struct {
	started  time.Time
	duration time.Duration
	status   *int
	err      error
}

// Deliver makes the next attempt of delivery id, unless it has finished or another worker
// is attempting it (then it returns nil: the queue is at-least-once and this run is the
// duplicate). It claims the delivery with a lease instead of holding a transaction across
// the HTTP call. On a failed attempt with attempts left it returns a *RetryError whose delay
// matches the logged next attempt time; after the last attempt the delivery is FAILED and
// it returns nil. Errors: ErrNotFound when the delivery does not exist.
func (s *Service) Deliver(ctx context.Context, id int64) error {
	d, ok, err := s.claim(ctx, id)
	if err != nil || !ok {
		return err
	}
	secret, live, err := s.secretFor(ctx, d)
	if err != nil {
		return err
	}
	if !live {
		return s.finishWithout(ctx, d, "subscription deleted")
	}
	o := s.attempt(ctx, d, secret)
	delay, err := s.record(ctx, d, o)
	if err != nil {
		return err
	}
	if delay > 0 {
		return &RetryError{Delay: delay, Err: o.err}
	}
	return nil
}

// claim takes a lease on a pending delivery. ok is false when it is finished or leased.
func (s *Service) claim(ctx context.Context, id int64) (models.WebhookDelivery, bool, error) {
	now := s.clock()
	var d models.WebhookDelivery
	err := s.db.NewUpdate().Model(&d).
		Set("locked_until = ?", now.Add(s.cfg.Timeout+30*time.Second)).
		Where("id = ? AND state = ?", id, models.WebhookDeliveryPending).
		Where("locked_until IS NULL OR locked_until < ?", now).
		Returning("*").Scan(ctx)
	if err == nil {
		return d, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return d, false, fmt.Errorf("claim webhook delivery %d: %w", id, err)
	}
	exists, err := s.db.NewSelect().Model((*models.WebhookDelivery)(nil)).Where("id = ?", id).Exists(ctx)
	if err != nil {
		return d, false, fmt.Errorf("find webhook delivery %d: %w", id, err)
	}
	if !exists {
		return d, false, ErrNotFound
	}
	return d, false, nil
}

// secretFor returns the key that signs d: its subscription's own secret or the default.
// live is false when the subscription has been deleted.
func (s *Service) secretFor(ctx context.Context, d models.WebhookDelivery) (secret string, live bool, err error) {
	if d.SubscriptionID == nil {
		return "", false, nil
	}
	var sub models.WebhookSubscription
	err = s.db.NewSelect().Model(&sub).Where("ws.id = ? AND ws.user_id = ?", *d.SubscriptionID, d.UserID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("load webhook subscription %d: %w", *d.SubscriptionID, err)
	}
	if !sub.HasOwnSecret() {
		return s.cfg.DefaultSecret, true, nil
	}
	secret, err = s.seal.open(sub.SecretSealed, sub.UserID)
	return secret, true, err
}

// attempt POSTs the delivery once.
func (s *Service) attempt(ctx context.Context, d models.WebhookDelivery, secret string) outcome {
	o := outcome{started: s.clock()}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Body))
	if err != nil {
		o.err = fmt.Errorf("build request: %w", err)
		return o
	}
	ts := o.started.Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set(HeaderEvent, string(d.Event))
	req.Header.Set(HeaderDelivery, d.EventID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(secret, ts, d.Body))
	start := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		o.duration = time.Since(start)
		if isForbidden(err) {
			err = ErrForbiddenTarget // the dial address is ours to know, not the log reader's
		}
		o.err = err
		return o
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseRead))
	resp.Body.Close()
	o.duration = time.Since(start)
	code := resp.StatusCode
	o.status = &code
	if code < 200 || code > 299 {
		o.err = fmt.Errorf("HTTP %d: %s", code, strings.TrimSpace(string(snippet)))
	}
	return o
}

// record logs the attempt and moves the delivery on, releasing the lease. It returns the
// delay before the next attempt, or 0 when the delivery finished.
func (s *Service) record(ctx context.Context, d models.WebhookDelivery, o outcome) (time.Duration, error) {
	n := d.Attempts + 1
	now := s.clock()
	var errText *string
	if o.err != nil {
		t := truncate(o.err.Error(), maxErrorText)
		errText = &t
	}
	state, delay := models.WebhookDeliverySucceeded, time.Duration(0)
	var next, finished *time.Time
	switch {
	case o.err == nil:
		finished = &now
	case n >= d.MaxAttempts:
		state, finished = models.WebhookDeliveryFailed, &now
	default:
		state, delay = models.WebhookDeliveryPending, s.jitter(s.cfg.RetryDelay(n))
		t := now.Add(delay)
		next = &t
	}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		a := models.WebhookDeliveryAttempt{DeliveryID: d.ID, Attempt: n, StartedAt: o.started, DurationMs: int(o.duration.Milliseconds()), StatusCode: o.status, Error: errText}
		if _, err := tx.NewInsert().Model(&a).Exec(ctx); err != nil {
			return fmt.Errorf("log attempt %d of webhook delivery %d: %w", n, d.ID, err)
		}
		_, err := tx.NewUpdate().Model((*models.WebhookDelivery)(nil)).
			Set("attempts = ?, state = ?, last_status_code = ?, last_error = ?, last_attempt_at = ?", n, state, o.status, errText, o.started).
			Set("next_attempt_at = ?, finished_at = ?, locked_until = NULL, updated_at = ?", next, finished, now).
			Where("id = ? AND state = ?", d.ID, models.WebhookDeliveryPending).
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("update webhook delivery %d: %w", d.ID, err)
		}
		return nil
	})
	return delay, err
}

// finishWithout ends a delivery as FAILED without an attempt.
func (s *Service) finishWithout(ctx context.Context, d models.WebhookDelivery, reason string) error {
	now := s.clock()
	_, err := s.db.NewUpdate().Model((*models.WebhookDelivery)(nil)).
		Set("state = ?, last_error = ?, finished_at = ?, next_attempt_at = NULL, locked_until = NULL, updated_at = ?", models.WebhookDeliveryFailed, reason, now, now).
		Where("id = ? AND state = ?", d.ID, models.WebhookDeliveryPending).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("end webhook delivery %d: %w", d.ID, err)
	}
	return nil
}

// truncate cuts s to at most n bytes on a rune boundary, after making it text Postgres
// accepts (a receiver's answer may be any bytes).
func truncate(s string, n int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}
