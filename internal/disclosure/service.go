// Package disclosure publishes users' disclosures: for chosen consumption points and a
// period, the hourly consumption and the technology mix of the GGOs retired to it, readable
// by anyone who has the disclosure's public id.
//
// The owner defines a disclosure (Create, Update, Delete: only the owner, every query is
// scoped by user id); a worker task compiles it (Compile) from the measurements and the
// committed retirements into stored tables, incrementally: unchanged hours are not
// rewritten, hours that no longer exist are deleted. The public read (Public) only ever
// reads the stored data and applies the owner's privacy settings: per-point or aggregate
// series, GSRNs and addresses hidden unless shown, amounts hidden in share-only mode, and
// never a finer resolution than the owner allowed.
package disclosure

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/originhub/originhub/internal/datahub"
	"github.com/originhub/originhub/models"
)

// MaxSpan is the longest period a disclosure covers.
const MaxSpan = 5 * 366 * 24 * time.Hour

// MaxPoints is the most metering points one disclosure names.
const MaxPoints = 1000

// Enqueuer queues the compilation of a disclosure (tasks.Enqueuer implements it).
type Enqueuer interface {
	EnqueueDisclosureCompile(ctx context.Context, disclosureID int64) error
}

// Service manages disclosures.
type Service struct {
	db    *bun.DB
	queue Enqueuer
	log   *slog.Logger
	clock func() time.Time
}

// NewService returns a Service.
func NewService(db *bun.DB, queue Enqueuer, log *slog.Logger, clock func() time.Time) *Service {
	return &Service{db: db, queue: queue, log: log, clock: clock}
}

// Settings is what an owner chooses for a disclosure.
type Settings struct {
	Name, Description string
	// From and To are the disclosed period [From, To), whole UTC hours.
	From, To time.Time
	// GSRNs are the owner's consumption points to disclose.
	GSRNs         []string
	MaxResolution models.DisclosureResolution
	// PerMeteringPoint gives one series per point; otherwise one aggregate series.
	PerMeteringPoint bool
	// ShowGSRN and ShowAddress reveal each series' point (per-point mode only).
	ShowGSRN, ShowAddress bool
	// ShareOnly hides every absolute amount: only shares are public.
	ShareOnly bool
}

func (st *Settings) validate() error {
	st.Name = strings.TrimSpace(st.Name)
	st.From, st.To = st.From.UTC(), st.To.UTC()
	switch {
	case st.Name == "" || len(st.Name) > 200:
		return &InputError{Field: "input.name", Message: "1 to 200 characters"}
	case len(st.Description) > 2000:
		return &InputError{Field: "input.description", Message: "at most 2000 characters"}
	case st.From.IsZero() || st.To.IsZero() || !st.From.Before(st.To):
		return &InputError{Field: "input.begin", Message: "gte and lt are required, gte before lt"}
	case !st.From.Truncate(time.Hour).Equal(st.From) || !st.To.Truncate(time.Hour).Equal(st.To):
		return &InputError{Field: "input.begin", Message: "gte and lt must be whole hours"}
	case st.To.Sub(st.From) > MaxSpan:
		return &InputError{Field: "input.begin", Message: "at most five years"}
	case rank(st.MaxResolution) < 0:
		return &InputError{Field: "input.maxResolution", Message: "one of HOUR, DAY, MONTH, YEAR"}
	case len(st.GSRNs) == 0 || len(st.GSRNs) > MaxPoints:
		return &InputError{Field: "input.gsrn", Message: fmt.Sprintf("1 to %d consumption metering points", MaxPoints)}
	}
	seen := map[string]bool{}
	var gsrns []string
	for _, g := range st.GSRNs {
		if !seen[g] {
			seen[g] = true
			gsrns = append(gsrns, g)
		}
	}
	sort.Strings(gsrns)
	st.GSRNs = gsrns
	if !st.PerMeteringPoint {
		// An aggregate series has no point to name.
		st.ShowGSRN, st.ShowAddress = false, false
	}
	return nil
}

// rank orders resolutions from finest (0) to coarsest; -1 for an unknown one.
func rank(r models.DisclosureResolution) int {
	switch r {
	case models.DisclosureHour:
		return 0
	case models.DisclosureDay:
		return 1
	case models.DisclosureMonth:
		return 2
	case models.DisclosureYear:
		return 3
	}
	return -1
}

// Create defines a disclosure of the user's consumption points and queues its compilation.
//
// Errors: ErrInvalidInput (an *InputError; GSRNs that are not the user's consumption
// points are named, someone else's point reads the same as a missing one); database errors
// wrapped. A failure to queue is logged, not returned: the sweep compiles it.
func (s *Service) Create(ctx context.Context, userID int64, st Settings) (models.Disclosure, error) {
	if err := st.validate(); err != nil {
		return models.Disclosure{}, err
	}
	d := models.Disclosure{UserID: userID, State: models.DisclosurePending, Version: 1}
	apply(&d, st)
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		ids, err := pointIDs(ctx, tx, userID, st.GSRNs)
		if err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(&d).Returning("*").Exec(ctx); err != nil {
			return fmt.Errorf("insert disclosure: %w", err)
		}
		return setPoints(ctx, tx, d.ID, ids)
	})
	if err != nil {
		return models.Disclosure{}, err
	}
	d.GSRNs = st.GSRNs
	s.enqueue(ctx, d.ID)
	return d, nil
}

func apply(d *models.Disclosure, st Settings) {
	d.Name, d.Description, d.Begin, d.End = st.Name, st.Description, st.From, st.To
	d.MaxResolution, d.PerMeteringPoint, d.ShowGsrn, d.ShowAddress, d.ShareOnly = st.MaxResolution, st.PerMeteringPoint, st.ShowGSRN, st.ShowAddress, st.ShareOnly
}

// pointIDs returns the ids of the user's consumption points with gsrns, in GSRN order.
func pointIDs(ctx context.Context, db bun.IDB, userID int64, gsrns []string) ([]int64, error) {
	rows, err := datahub.ConsumptionPoints(ctx, db, userID, gsrns, "input.gsrn")
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	return ids, nil
}

func setPoints(ctx context.Context, tx bun.Tx, id int64, ids []int64) error {
	if _, err := tx.NewRaw("DELETE FROM disclosure_metering_points WHERE disclosure_id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("clear disclosure points: %w", err)
	}
	if _, err := tx.NewRaw(`INSERT INTO disclosure_metering_points (disclosure_id, metering_point_id, position)
		SELECT ?, p.id, p.n FROM unnest(?::bigint[]) WITH ORDINALITY AS p (id, n)`, id, pgdialect.Array(ids)).Exec(ctx); err != nil {
		return fmt.Errorf("insert disclosure points: %w", err)
	}
	return nil
}

func (s *Service) enqueue(ctx context.Context, id int64) {
	if err := s.queue.EnqueueDisclosureCompile(ctx, id); err != nil {
		s.log.WarnContext(ctx, "disclosure compile not queued; the sweep will queue it", "disclosure_id", id, "err", err)
	}
}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// ValidPublicID reports whether id has the shape of a public id (a UUID), so that malformed
// ids are answered as not found without reaching the database.
func ValidPublicID(id string) bool { return uuidPattern.MatchString(id) }

// Update replaces the settings of the user's disclosure publicID and queues its
// recompilation. Compiled data of points or hours it no longer covers is deleted at once,
// so nothing the owner withdrew stays public until the recompilation.
//
// Errors: ErrNotFound (also for someone else's disclosure), ErrInvalidInput, database
// errors wrapped.
func (s *Service) Update(ctx context.Context, userID int64, publicID string, st Settings) (models.Disclosure, error) {
	if !ValidPublicID(publicID) {
		return models.Disclosure{}, ErrNotFound
	}
	if err := st.validate(); err != nil {
		return models.Disclosure{}, err
	}
	var d models.Disclosure
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		err := tx.NewSelect().Model(&d).Where("d.public_id = ? AND d.user_id = ?", publicID, userID).For("UPDATE").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("load disclosure: %w", err)
		}
		ids, err := pointIDs(ctx, tx, userID, st.GSRNs)
		if err != nil {
			return err
		}
		apply(&d, st)
		d.Version++
		d.State, d.Error, d.UpdatedAt = models.DisclosurePending, nil, s.clock()
		if _, err := tx.NewUpdate().Model(&d).WherePK().Returning("*").Exec(ctx); err != nil {
			return fmt.Errorf("update disclosure: %w", err)
		}
		if err := setPoints(ctx, tx, d.ID, ids); err != nil {
			return err
		}
		for _, table := range []string{"disclosure_hours", "disclosure_retired"} {
			if _, err := tx.NewRaw("DELETE FROM ? WHERE disclosure_id = ? AND (metering_point_id <> ALL(?::bigint[]) OR begin_at < ? OR begin_at >= ?)",
				bun.Ident(table), d.ID, pgdialect.Array(ids), d.Begin, d.End).Exec(ctx); err != nil {
				return fmt.Errorf("withdraw compiled data: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return models.Disclosure{}, err
	}
	d.GSRNs = st.GSRNs
	s.enqueue(ctx, d.ID)
	return d, nil
}

// Delete deletes the user's disclosure publicID and its compiled data.
//
// Errors: ErrNotFound (also for someone else's disclosure), database errors wrapped.
func (s *Service) Delete(ctx context.Context, userID int64, publicID string) error {
	if !ValidPublicID(publicID) {
		return ErrNotFound
	}
	res, err := s.db.NewDelete().Model((*models.Disclosure)(nil)).Where("public_id = ? AND user_id = ?", publicID, userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete disclosure: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// List returns the user's disclosures with their GSRNs, newest first.
func (s *Service) List(ctx context.Context, userID int64) ([]models.Disclosure, error) {
	var ds []models.Disclosure
	if err := s.db.NewSelect().Model(&ds).Where("d.user_id = ?", userID).Order("d.id DESC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list disclosures: %w", err)
	}
	if err := s.loadGSRNs(ctx, userID, ds); err != nil {
		return nil, err
	}
	return ds, nil
}

// loadGSRNs fills the GSRNs of the user's disclosures ds with one query.
func (s *Service) loadGSRNs(ctx context.Context, userID int64, ds []models.Disclosure) error {
	if len(ds) == 0 {
		return nil
	}
	ids := make([]int64, len(ds))
	at := make(map[int64]int, len(ds))
	for i, d := range ds {
		ids[i], at[d.ID] = d.ID, i
		ds[i].GSRNs = []string{}
	}
	var rows []struct {
		DisclosureID int64  `bun:"disclosure_id"`
		GSRN         string `bun:"gsrn"`
	}
	if err := s.db.NewRaw(`SELECT dm.disclosure_id, mp.gsrn FROM disclosure_metering_points dm
		JOIN disclosures d ON d.id = dm.disclosure_id JOIN metering_points mp ON mp.id = dm.metering_point_id
		WHERE d.user_id = ? AND dm.disclosure_id IN (?) ORDER BY dm.disclosure_id, dm.position`, userID, bun.In(ids)).Scan(ctx, &rows); err != nil {
		return fmt.Errorf("load disclosure points: %w", err)
	}
	for _, r := range rows {
		i := at[r.DisclosureID]
		ds[i].GSRNs = append(ds[i].GSRNs, r.GSRN)
	}
	return nil
}

// Get returns the user's disclosure publicID.
//
// Errors: ErrNotFound (also for someone else's), database errors wrapped.
func (s *Service) Get(ctx context.Context, userID int64, publicID string) (models.Disclosure, error) {
	var d models.Disclosure
	if !ValidPublicID(publicID) {
		return d, ErrNotFound
	}
	err := s.db.NewSelect().Model(&d).Where("d.public_id = ? AND d.user_id = ?", publicID, userID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return d, ErrNotFound
	}
	if err != nil {
		return d, fmt.Errorf("load disclosure: %w", err)
	}
	ds := []models.Disclosure{d}
	if err := s.loadGSRNs(ctx, userID, ds); err != nil {
		return d, err
	}
	return ds[0], nil
}
