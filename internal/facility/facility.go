// Package facility presents a user's metering points as facilities: a name, tags and, for
// consumption points, the order automatic consumption retires to them in.
package facility

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/originhub/originhub/internal/input"
	"github.com/originhub/originhub/models"
)

// Errors of the facility service.
var (
	ErrNotFound     = errors.New("not found")
	ErrInvalidInput = input.ErrInvalid
)

// InputError says which input was wrong; it matches ErrInvalidInput.
type InputError = input.Error

// Filter narrows a user's facilities; empty fields match everything.
type Filter struct {
	Type         *models.MeteringPointType
	GSRNs        []string
	Sectors      []models.Sector
	Tags         []string // facilities carrying all of them
	Technologies []string // technology labels
	Text         string   // in the name, GSRN or address, case-insensitive
}

func (f Filter) apply(q *bun.SelectQuery) *bun.SelectQuery {
	if f.Type != nil {
		q = q.Where("mp.type = ?", *f.Type)
	}
	if len(f.GSRNs) > 0 {
		q = q.Where("mp.gsrn IN (?)", bun.In(f.GSRNs))
	}
	if len(f.Sectors) > 0 {
		q = q.Where("mp.sector IN (?)", bun.In(f.Sectors))
	}
	if len(f.Tags) > 0 {
		// @> uses the GIN index on tags.
		q = q.Where("mp.tags @> ?", pgArray(f.Tags))
	}
	if len(f.Technologies) > 0 {
		q = q.Where("EXISTS (SELECT 1 FROM technologies t WHERE t.technology_code = mp.technology_code AND t.fuel_code = mp.fuel_code AND t.label IN (?))", bun.In(f.Technologies))
	}
	if t := strings.TrimSpace(f.Text); t != "" {
		like := "%" + escapeLike(strings.ToLower(t)) + "%"
		q = q.Where("(lower(coalesce(mp.name, '')) LIKE ? OR mp.gsrn LIKE ? OR lower(mp.street_name || ' ' || mp.building_number || ' ' || mp.postcode || ' ' || mp.city_name) LIKE ?)", like, like, like)
	}
	return q
}

// Order is how facilities are listed.
type Order string

// Orders: by name (GSRN when unnamed), or by retiring priority (unprioritised last).
const (
	OrderName             Order = "NAME"
	OrderRetiringPriority Order = "RETIRING_PRIORITY"
)

// Service reads and edits users' facilities.
type Service struct{ db *bun.DB }

// NewService returns a Service.
func NewService(db *bun.DB) *Service { return &Service{db: db} }

// List returns the user's facilities matching f.
func (s *Service) List(ctx context.Context, user int64, f Filter, order Order) ([]models.MeteringPoint, error) {
	var out []models.MeteringPoint
	q := s.db.NewSelect().Model(&out).Where("mp.user_id = ?", user).Apply(f.apply)
	switch order {
	case OrderRetiringPriority:
		q = q.OrderExpr("mp.retiring_priority NULLS LAST, mp.id")
	default:
		q = q.OrderExpr("coalesce(mp.name, mp.gsrn), mp.id")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list facilities: %w", err)
	}
	return out, nil
}

// Edit renames a facility (nil keeps the name, "" clears it) and replaces its tags.
// Errors: ErrNotFound (not the user's), *InputError.
func (s *Service) Edit(ctx context.Context, user, id int64, name *string, tags []string) (models.MeteringPoint, error) {
	clean := make([]string, 0, len(tags))
	for _, t := range tags {
		t = strings.TrimSpace(t)
		if t == "" || len(t) > 50 {
			return models.MeteringPoint{}, &InputError{Field: "input.tags", Message: "each tag must be 1 to 50 characters"}
		}
		if !slices.Contains(clean, t) {
			clean = append(clean, t)
		}
	}
	if len(clean) > 20 {
		return models.MeteringPoint{}, &InputError{Field: "input.tags", Message: "at most 20 tags"}
	}
	var mp models.MeteringPoint
	q := s.db.NewUpdate().Model(&mp).Set("tags = ?", pgArray(clean)).Set("updated_at = now()").
		Where("mp.id = ? AND mp.user_id = ?", id, user).Returning("*")
	if name != nil {
		n := strings.TrimSpace(*name)
		if len(n) > 200 {
			return models.MeteringPoint{}, &InputError{Field: "input.name", Message: "at most 200 characters"}
		}
		var v *string
		if n != "" {
			v = &n
		}
		q = q.Set("name = ?", v)
	}
	err := q.Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return mp, ErrNotFound
	}
	if err != nil {
		return mp, fmt.Errorf("edit facility: %w", err)
	}
	return mp, nil
}

// SetRetiringPriority clears the retiring priority of all the user's consumption points and
// gives the listed ones 0, 1, 2… in order, in one transaction.
// Errors: *InputError (an id that is not one of the user's consumption points, or repeated).
func (s *Service) SetRetiringPriority(ctx context.Context, user int64, ids []int64) error {
	for i, id := range ids {
		if slices.Contains(ids[:i], id) {
			return &InputError{Field: "input.ids", Message: "lists a facility twice"}
		}
	}
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// Lock the user's consumption points in id order: a concurrent call waits.
		var own []int64
		if err := tx.NewSelect().Model((*models.MeteringPoint)(nil)).Column("id").
			Where("mp.user_id = ? AND mp.type = 'CONSUMPTION'", user).OrderExpr("mp.id").For("UPDATE").Scan(ctx, &own); err != nil {
			return fmt.Errorf("lock consumption points: %w", err)
		}
		for _, id := range ids {
			if !slices.Contains(own, id) {
				return &InputError{Field: "input.ids", Message: "only your consumption metering points can have a retiring priority"}
			}
		}
		if _, err := tx.NewUpdate().Model((*models.MeteringPoint)(nil)).Set("retiring_priority = NULL, updated_at = now()").
			Where("mp.user_id = ? AND mp.type = 'CONSUMPTION' AND mp.retiring_priority IS NOT NULL", user).Exec(ctx); err != nil {
			return fmt.Errorf("clear retiring priorities: %w", err)
		}
		for i, id := range ids {
			if _, err := tx.NewUpdate().Model((*models.MeteringPoint)(nil)).Set("retiring_priority = ?, updated_at = now()", i).
				Where("mp.id = ?", id).Exec(ctx); err != nil {
				return fmt.Errorf("set retiring priority: %w", err)
			}
		}
		return nil
	})
}

// Options are the values the user's facility filters can take.
type Options struct {
	Sectors      []models.Sector
	Tags         []string
	Technologies []string // every technology label
}

// FilteringOptions returns the distinct sectors and tags of the user's facilities matching f,
// and all technology labels.
func (s *Service) FilteringOptions(ctx context.Context, user int64, f Filter) (Options, error) {
	var o Options
	base := func() *bun.SelectQuery {
		return s.db.NewSelect().Model((*models.MeteringPoint)(nil)).Where("mp.user_id = ?", user).Apply(f.apply)
	}
	if err := base().ColumnExpr("DISTINCT mp.sector").OrderExpr("mp.sector").Scan(ctx, &o.Sectors); err != nil {
		return o, fmt.Errorf("facility sectors: %w", err)
	}
	if err := s.db.NewSelect().ColumnExpr("DISTINCT tag").
		TableExpr("(?) AS f, unnest(f.tags) AS tag", base().Column("tags")).OrderExpr("tag").Scan(ctx, &o.Tags); err != nil {
		return o, fmt.Errorf("facility tags: %w", err)
	}
	if err := s.db.NewSelect().Model((*models.Technology)(nil)).ColumnExpr("DISTINCT t.label").OrderExpr("t.label").Scan(ctx, &o.Technologies); err != nil {
		return o, fmt.Errorf("technology labels: %w", err)
	}
	return o, nil
}

// pgArray formats strings as a text[] parameter.
func pgArray(v []string) any {
	if v == nil {
		v = []string{}
	}
	return pgdialect.Array(v)
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
