// Package user keeps the users table: a subject seen for the first time gets its row.
package user

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/models"
)

// ErrNotFound is returned when the subject has no user row.
var ErrNotFound = errors.New("user not found")

// cacheSize bounds the subject → user cache; a user row never changes once created, so
// entries never go stale.
const cacheSize = 10_000

// Service resolves subjects to users.
type Service struct {
	db *bun.DB

	mu    sync.Mutex
	cache map[string]models.User
}

// NewService returns a Service on db.
func NewService(db *bun.DB) *Service {
	return &Service{db: db, cache: make(map[string]models.User)}
}

// Ensure returns the user of subject, creating the row the first time the subject is seen.
// Concurrent first requests of one subject agree on one row.
func (s *Service) Ensure(ctx context.Context, subject string) (models.User, error) {
	s.mu.Lock()
	u, ok := s.cache[subject]
	s.mu.Unlock()
	if ok {
		return u, nil
	}
	u = models.User{Subject: subject}
	// DO UPDATE (a no-op write) instead of DO NOTHING so RETURNING yields the row either way.
	_, err := s.db.NewInsert().Model(&u).
		On("CONFLICT (subject) DO UPDATE").Set("subject = EXCLUDED.subject").
		Returning("id, created_at, account_reference").
		Exec(ctx)
	if err != nil {
		return models.User{}, fmt.Errorf("ensure user: %w", err)
	}
	s.mu.Lock()
	if len(s.cache) >= cacheSize {
		for k := range s.cache { // evict an arbitrary entry; cheap and good enough
			delete(s.cache, k)
			break
		}
	}
	s.cache[subject] = u
	s.mu.Unlock()
	return u, nil
}

// Viewer is the authenticated user a request acts for.
type Viewer struct {
	UserID  int64
	Subject string
}

type viewerKey struct{}

// WithViewer returns ctx carrying v.
func WithViewer(ctx context.Context, v Viewer) context.Context {
	return context.WithValue(ctx, viewerKey{}, v)
}

// ViewerFrom returns the viewer of ctx, if the request is authenticated.
func ViewerFrom(ctx context.Context) (Viewer, bool) {
	v, ok := ctx.Value(viewerKey{}).(Viewer)
	return v, ok
}

// ByID returns the viewer's own user row; other users are not visible to anyone.
func (s *Service) ByID(ctx context.Context, v Viewer, id int64) (models.User, error) {
	if id != v.UserID {
		return models.User{}, ErrNotFound
	}
	var u models.User
	if err := s.db.NewSelect().Model(&u).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return models.User{}, ErrNotFound
		}
		return models.User{}, fmt.Errorf("load user %d: %w", id, err)
	}
	return u, nil
}
