// Package technology serves the public technology/fuel code → label table.
package technology

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/db"
	"github.com/originhub/originhub/internal/relay"
	"github.com/originhub/originhub/models"
)

// Service reads technologies.
type Service struct{ db *bun.DB }

// NewService returns a Service on db.
func NewService(db *bun.DB) *Service { return &Service{db: db} }

// Filter narrows a technology list; empty fields match everything.
type Filter struct {
	Label, TechnologyCode, FuelCode string
}

func (f Filter) apply(q *bun.SelectQuery) *bun.SelectQuery {
	if f.Label != "" {
		q = q.Where("t.label = ?", f.Label)
	}
	if f.TechnologyCode != "" {
		q = q.Where("t.technology_code = ?", f.TechnologyCode)
	}
	if f.FuelCode != "" {
		q = q.Where("t.fuel_code = ?", f.FuelCode)
	}
	return q
}

var order = relay.Order{Columns: []string{"t.technology_code", "t.fuel_code"}}

// List returns one page of technologies ordered by technology code, then fuel code.
// Errors: relay.ErrInvalidArgs for bad pagination arguments.
func (s *Service) List(ctx context.Context, f Filter, args relay.Args) (*relay.Connection[models.Technology], error) {
	q := s.db.NewSelect().Model((*models.Technology)(nil)).Apply(f.apply)
	return relay.Paginate(ctx, q, args, order, func(t *models.Technology) []any {
		return []any{t.TechnologyCode, t.FuelCode}
	})
}

// Labels returns every distinct label, sorted.
func (s *Service) Labels(ctx context.Context) ([]string, error) {
	var labels []string
	if err := s.db.NewSelect().Model((*models.Technology)(nil)).ColumnExpr("DISTINCT label").OrderExpr("label").Scan(ctx, &labels); err != nil {
		return nil, fmt.Errorf("list technology labels: %w", err)
	}
	return labels, nil
}

// Key identifies a technology.
type Key struct{ TechnologyCode, FuelCode string }

// ByKeys returns the technologies among keys, keyed by them.
func (s *Service) ByKeys(ctx context.Context, keys []Key) (map[Key]models.Technology, error) {
	pairs := make([][]string, len(keys))
	for i, k := range keys {
		pairs[i] = []string{k.TechnologyCode, k.FuelCode}
	}
	var rows []models.Technology
	if err := s.db.NewSelect().Model(&rows).Where("(t.technology_code, t.fuel_code) IN (?)", bun.In(pairs)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load technologies: %w", err)
	}
	return db.Keyed(rows, func(t *models.Technology) Key { return Key{t.TechnologyCode, t.FuelCode} }), nil
}
