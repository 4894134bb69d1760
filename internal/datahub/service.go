package datahub

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/eloverblik"
	"github.com/originhub/originhub/models"
)

// Config configures imports and onboarding.
type Config struct {
	FirstMeasurementTime time.Time
	LastMeasurementTime  time.Time // zero: up to the current hour
	// TrailingWindow is re-read on every incremental import, because DataHub revises
	// readings for weeks after the fact.
	TrailingWindow time.Duration

	OnboardingURL string // ElOverblik's (or the simulator's) onboarding page
	ThirdPartyID  string
	CallbackURL   string // our /onboarding/callback, absolute
	AccessFrom    time.Time
	AccessTo      time.Time
}

// Enqueuer schedules tasks; implemented by the tasks package.
type Enqueuer interface {
	// EnqueueImport queues import job jobID.
	EnqueueImport(ctx context.Context, jobID int64) error
	// EnqueuePublishMeasurements queues the ledger publication of a point's new readings
	// (and, for production, the issuance of their GGOs).
	EnqueuePublishMeasurements(ctx context.Context, meteringPointID int64, from, to time.Time) error
}

// Publisher sends pub/sub events (internal/pubsub.Bus).
type Publisher interface {
	Publish(ctx context.Context, topic string, payload []byte) error
}

// Service imports and serves DataHub data.
type Service struct {
	db     *bun.DB
	client *eloverblik.Client
	cfg    Config
	queue  Enqueuer
	bus    Publisher
	log    *slog.Logger
	clock  func() time.Time
}

// NewService returns a Service.
func NewService(db *bun.DB, client *eloverblik.Client, cfg Config, queue Enqueuer, bus Publisher, log *slog.Logger, clock func() time.Time) *Service {
	if cfg.TrailingWindow == 0 {
		cfg.TrailingWindow = 30 * 24 * time.Hour
	}
	return &Service{db: db, client: client, cfg: cfg, queue: queue, bus: bus, log: log, clock: clock}
}

// StartOnboarding returns the ElOverblik URL where the user grants OriginHub access. Each
// call issues a new one-time nonce; only the newest URL's callback is accepted.
func (s *Service) StartOnboarding(ctx context.Context, userID int64) (string, error) {
	now := s.clock()
	from, to := s.cfg.AccessFrom, s.cfg.AccessTo
	if from.IsZero() {
		from = s.cfg.FirstMeasurementTime
	}
	if to.IsZero() {
		to = now.AddDate(3, 0, 0)
	}
	nonce := randomHex(16)
	link := models.ElOverblikLink{UserID: userID, CustomerKey: "oh-" + randomHex(12), State: models.LinkPending, Nonce: &nonce, AccessFrom: &from, AccessTo: &to}
	// A user keeps their customer key (and a granted state) across repeated onboardings.
	err := s.db.NewInsert().Model(&link).
		On("CONFLICT (user_id) DO UPDATE").
		Set("nonce = EXCLUDED.nonce, access_from = EXCLUDED.access_from, access_to = EXCLUDED.access_to, requested_at = now(), updated_at = now()").
		Returning("customer_key").
		Scan(ctx)
	if err != nil {
		return "", fmt.Errorf("start onboarding: %w", err)
	}
	cb, err := url.Parse(s.cfg.CallbackURL)
	if err != nil {
		return "", fmt.Errorf("callback url: %w", err)
	}
	q := cb.Query()
	q.Set("state", nonce)
	cb.RawQuery = q.Encode()
	return eloverblik.OnboardingURL(s.cfg.OnboardingURL, eloverblik.OnboardingParams{
		ThirdPartyID: s.cfg.ThirdPartyID, FromDate: from, ToDate: to, CustomerKey: link.CustomerKey, ReturnURL: cb.String(),
	})
}

// CompleteOnboarding records the answer ElOverblik's onboarding sent back for nonce and,
// when access was granted, queues the import of the user's metering points. The nonce is
// single-use. Errors: ErrInvalidCallback for an unknown or used nonce.
func (s *Service) CompleteOnboarding(ctx context.Context, nonce string, granted bool) (models.ElOverblikLink, error) {
	state := models.LinkDenied
	if granted {
		state = models.LinkGranted
	}
	var link models.ElOverblikLink
	err := s.db.NewUpdate().Model(&link).
		Set("state = ?, nonce = NULL, updated_at = now()", state).
		Set("granted_at = CASE WHEN ? THEN now() ELSE granted_at END", granted).
		Where("nonce = ?", nonce).
		Returning("*").
		Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) || nonce == "" {
		return models.ElOverblikLink{}, ErrInvalidCallback
	}
	if err != nil {
		return models.ElOverblikLink{}, fmt.Errorf("complete onboarding: %w", err)
	}
	if granted {
		if _, err := s.QueueMeteringPointImport(ctx, link.UserID); err != nil {
			return link, err
		}
	}
	return link, nil
}

// Link returns the user's ElOverblik link; ErrNotFound before onboarding.
func (s *Service) Link(ctx context.Context, userID int64) (models.ElOverblikLink, error) {
	var link models.ElOverblikLink
	err := s.db.NewSelect().Model(&link).Where("user_id = ?", userID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return link, ErrNotFound
	}
	if err != nil {
		return link, fmt.Errorf("load link: %w", err)
	}
	return link, nil
}

// QueueMeteringPointImport creates a job that imports the user's metering points (and then
// their measurements) and queues it. An open job of the same kind is returned instead of
// a second one. Errors: ErrNotLinked when no access was granted.
func (s *Service) QueueMeteringPointImport(ctx context.Context, userID int64) (models.ImportJob, error) {
	link, err := s.Link(ctx, userID)
	if errors.Is(err, ErrNotFound) || (err == nil && link.State != models.LinkGranted) {
		return models.ImportJob{}, ErrNotLinked
	}
	if err != nil {
		return models.ImportJob{}, err
	}
	return s.queueJob(ctx, models.ImportJob{UserID: userID, Kind: models.ImportMeteringPoints, State: models.ImportQueued}, "(user_id) WHERE kind = 'METERING_POINTS' AND state IN ('QUEUED', 'RUNNING')")
}

// QueueUserMeasurementImport creates and queues an incremental import of all the user's
// metering points, or returns the open one.
func (s *Service) QueueUserMeasurementImport(ctx context.Context, userID int64) (models.ImportJob, error) {
	return s.queueJob(ctx, models.ImportJob{UserID: userID, Kind: models.ImportMeasurements, State: models.ImportQueued},
		"(user_id) WHERE kind = 'MEASUREMENTS' AND metering_point_id IS NULL AND state IN ('QUEUED', 'RUNNING')")
}

// QueueMeasurementImport creates and queues an incremental import of one metering point,
// or returns the open one. Errors: ErrNotFound when the point is not the user's.
func (s *Service) QueueMeasurementImport(ctx context.Context, userID, meteringPointID int64) (models.ImportJob, error) {
	n, err := s.db.NewSelect().Model((*models.MeteringPoint)(nil)).Where("id = ? AND user_id = ?", meteringPointID, userID).Count(ctx)
	if err != nil {
		return models.ImportJob{}, fmt.Errorf("check metering point: %w", err)
	}
	if n == 0 {
		return models.ImportJob{}, ErrNotFound
	}
	mp := meteringPointID
	return s.queueJob(ctx, models.ImportJob{UserID: userID, Kind: models.ImportMeasurements, MeteringPointID: &mp, State: models.ImportQueued}, "(metering_point_id) WHERE kind = 'MEASUREMENTS' AND state IN ('QUEUED', 'RUNNING')")
}

// queueJob inserts job unless an open job of its kind exists (a partial unique index), and
// enqueues its task after the insert committed. Enqueueing an existing job again is
// harmless: the task id is the job id.
func (s *Service) queueJob(ctx context.Context, job models.ImportJob, conflict string) (models.ImportJob, error) {
	res, err := s.db.NewInsert().Model(&job).On("CONFLICT " + conflict + " DO NOTHING").Returning("*").Exec(ctx)
	if err != nil {
		return job, fmt.Errorf("create import job: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		q := s.db.NewSelect().Model(&job).Where("kind = ? AND state IN ('QUEUED', 'RUNNING') AND user_id = ?", job.Kind, job.UserID)
		if job.MeteringPointID != nil {
			q = q.Where("metering_point_id = ?", *job.MeteringPointID)
		} else {
			q = q.Where("metering_point_id IS NULL")
		}
		if err := q.Limit(1).Scan(ctx); err != nil {
			return job, fmt.Errorf("load open import job: %w", err)
		}
	}
	if err := s.queue.EnqueueImport(ctx, job.ID); err != nil {
		return job, err
	}
	s.notify(ctx, job)
	return job, nil
}

// QueueAllMeasurementImports queues an incremental import for every linked user; the
// scheduler calls it. It returns how many jobs it queued.
func (s *Service) QueueAllMeasurementImports(ctx context.Context) (int, error) {
	var users []int64
	if err := s.db.NewSelect().Model((*models.ElOverblikLink)(nil)).Column("user_id").Where("state = 'GRANTED'").Scan(ctx, &users); err != nil {
		return 0, fmt.Errorf("list linked users: %w", err)
	}
	queued := 0
	for _, u := range users {
		if _, err := s.QueueUserMeasurementImport(ctx, u); err != nil {
			s.log.WarnContext(ctx, "queue measurement import", "user_id", u, "err", err)
			continue
		}
		queued++
	}
	return queued, nil
}

// RunJob runs an import job. It is idempotent: a job already finished is left alone, and
// a job interrupted mid-way continues from what was committed. final tells whether this is
// the task's last try, after which a failure marks the job FAILED (else it goes back to
// QUEUED with its error, to be retried).
func (s *Service) RunJob(ctx context.Context, jobID int64, final bool) error {
	var job models.ImportJob
	err := s.db.NewUpdate().Model(&job).
		Set("state = 'RUNNING', attempts = attempts + 1, started_at = coalesce(started_at, now()), updated_at = now()").
		Where("id = ? AND state IN ('QUEUED', 'RUNNING')", jobID).
		Returning("*").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // finished already, or unknown: nothing to do
	}
	if err != nil {
		return fmt.Errorf("start import job %d: %w", jobID, err)
	}
	s.notify(ctx, job)
	switch job.Kind {
	case models.ImportMeteringPoints:
		err = s.importMeteringPoints(ctx, &job)
	case models.ImportMeasurements:
		err = s.importMeasurements(ctx, &job)
	default:
		err = fmt.Errorf("unknown import kind %q", job.Kind)
	}
	state, msg := models.ImportSucceeded, (*string)(nil)
	if err != nil {
		e := err.Error()
		msg, state = &e, models.ImportQueued
		if final {
			state = models.ImportFailed
		}
	}
	// Finishing must happen even when ctx was cancelled (shutdown), or the job stays RUNNING.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	upd := s.db.NewUpdate().Model(&job).
		Set("state = ?, last_error = ?, rows_read = ?, rows_written = ?, updated_at = now()", state, msg, job.RowsRead, job.RowsWritten)
	if state != models.ImportQueued {
		upd = upd.Set("finished_at = now()")
	}
	if uerr := upd.WherePK().Returning("*").Scan(fctx); uerr != nil {
		return errors.Join(err, fmt.Errorf("finish import job %d: %w", jobID, uerr))
	}
	if job.MeteringPointID != nil && msg != nil {
		_, _ = s.db.NewUpdate().Model((*models.MeteringPoint)(nil)).Set("last_import_error = ?", *msg).Where("id = ?", *job.MeteringPointID).Exec(fctx)
	}
	s.notify(fctx, job)
	return err
}

func (s *Service) importMeteringPoints(ctx context.Context, job *models.ImportJob) error {
	link, err := s.Link(ctx, job.UserID)
	if err != nil {
		return err
	}
	points, err := s.client.MeteringPoints(ctx, link.CustomerKey)
	if err != nil {
		return fmt.Errorf("fetch metering points: %w", err)
	}
	var rows []models.MeteringPoint
	for _, p := range points {
		job.RowsRead++
		var typ models.MeteringPointType
		switch p.Kind {
		case eloverblik.KindProduction:
			typ = models.MeteringPointProduction
		case eloverblik.KindConsumption:
			typ = models.MeteringPointConsumption
		default:
			continue // neither production nor consumption: not ours to import
		}
		sector, err := p.Sector()
		if err != nil {
			s.log.WarnContext(ctx, "metering point skipped", "gsrn", p.GSRN, "err", err)
			continue
		}
		mp := models.MeteringPoint{
			UserID: job.UserID, GSRN: p.GSRN, Type: typ, Sector: models.Sector(sector),
			StreetCode: p.StreetCode, StreetName: p.StreetName, BuildingNumber: p.BuildingNumber,
			CityName: p.CityName, Postcode: p.Postcode, MunicipalityCode: p.MunicipalityCode,
		}
		if typ == models.MeteringPointProduction {
			et, err := s.client.EnergyType(ctx, p.GSRN)
			if err != nil && !errors.Is(err, eloverblik.ErrEnergyTypeUnavailable) {
				return fmt.Errorf("energy type of %s: %w", p.GSRN, err)
			}
			if err == nil {
				mp.TechnologyCode, mp.FuelCode = &et.TechnologyCode, &et.FuelCode
			}
		}
		rows = append(rows, mp)
	}
	if len(rows) == 0 {
		return nil
	}
	// A GSRN that belongs to another user is not taken over: DataHub consent moved, which an
	// operator must look at. The WHERE on the conflict update keeps the other owner's row.
	res, err := s.db.NewInsert().Model(&rows).
		On("CONFLICT (gsrn) DO UPDATE").
		Set("sector = EXCLUDED.sector, technology_code = coalesce(EXCLUDED.technology_code, mp.technology_code), fuel_code = coalesce(EXCLUDED.fuel_code, mp.fuel_code)").
		Set("street_code = EXCLUDED.street_code, street_name = EXCLUDED.street_name, building_number = EXCLUDED.building_number").
		Set("city_name = EXCLUDED.city_name, postcode = EXCLUDED.postcode, municipality_code = EXCLUDED.municipality_code, updated_at = now()").
		Where("mp.user_id = EXCLUDED.user_id").
		Returning("id").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("store metering points: %w", err)
	}
	n, _ := res.RowsAffected()
	job.RowsWritten = n
	if int(n) < len(rows) {
		s.log.WarnContext(ctx, "metering points owned by another user were skipped", "user_id", job.UserID, "skipped", len(rows)-int(n))
	}
	if _, err := s.QueueUserMeasurementImport(ctx, job.UserID); err != nil {
		return fmt.Errorf("queue measurements: %w", err)
	}
	return nil
}

// importWindow returns the span an incremental import of mp reads: from the start of the
// consent (never before FIRST_MEASUREMENT_TIME), or from the last imported hour less the
// trailing window, up to the current hour (or LAST_MEASUREMENT_TIME, or the consent's end).
func (s *Service) importWindow(mp models.MeteringPoint, link models.ElOverblikLink) (from, to time.Time) {
	to = s.clock().Truncate(time.Hour)
	if !s.cfg.LastMeasurementTime.IsZero() && s.cfg.LastMeasurementTime.Before(to) {
		to = s.cfg.LastMeasurementTime.Truncate(time.Hour)
	}
	if link.AccessTo != nil && link.AccessTo.Before(to) {
		to = link.AccessTo.Truncate(time.Hour)
	}
	from = s.cfg.FirstMeasurementTime.Truncate(time.Hour)
	if link.AccessFrom != nil && link.AccessFrom.After(from) {
		from = link.AccessFrom.Truncate(time.Hour)
	}
	if mp.ImportedUntil != nil {
		from = maxTime(from, mp.ImportedUntil.Add(-s.cfg.TrailingWindow).Truncate(time.Hour))
	}
	return from, to
}

// maxPointsPerBatch bounds the GSRNs of one ElOverblik request and one COPY.
const maxPointsPerBatch = 50

func (s *Service) importMeasurements(ctx context.Context, job *models.ImportJob) error {
	q := s.db.NewSelect().Model((*models.MeteringPoint)(nil)).Where("user_id = ?", job.UserID).Order("id")
	if job.MeteringPointID != nil {
		q = q.Where("id = ?", *job.MeteringPointID)
	}
	var points []models.MeteringPoint
	if err := q.Scan(ctx, &points); err != nil {
		return fmt.Errorf("load metering points: %w", err)
	}
	if len(points) == 0 {
		return nil
	}
	link, err := s.Link(ctx, job.UserID)
	if err != nil {
		return err
	}
	spans := make([]Window, 0, len(points))
	var from, to time.Time
	for _, mp := range points {
		f, t := s.importWindow(mp, link)
		if !f.Before(t) {
			continue
		}
		spans = append(spans, Window{MeteringPointID: mp.ID, GSRN: mp.GSRN, From: f, To: t})
		if from.IsZero() || f.Before(from) {
			from = f
		}
		if t.After(to) {
			to = t
		}
	}
	job.WindowFrom, job.WindowTo = &from, &to
	if len(spans) == 0 {
		return nil
	}
	if _, err := EnsurePartitions(ctx, s.db, from, to); err != nil {
		return err
	}
	// Calendar months (the partitions) in order; in each, up to maxPointsPerBatch points per
	// request and transaction.
	for month := monthStart(from); month.Before(to); month = month.AddDate(0, 1, 0) {
		next := month.AddDate(0, 1, 0)
		var ws []Window
		for _, sp := range spans {
			f, t := maxTime(sp.From, month), minTime(sp.To, next)
			if f.Before(t) {
				ws = append(ws, Window{MeteringPointID: sp.MeteringPointID, GSRN: sp.GSRN, From: f, To: t})
			}
		}
		for len(ws) > 0 {
			batch := ws[:min(len(ws), maxPointsPerBatch)]
			ws = ws[len(batch):]
			if err := s.ingestBatch(ctx, job, batch); err != nil {
				return err
			}
		}
	}
	return nil
}

// ingestBatch fetches and stores one month of a group of points, and records progress.
func (s *Service) ingestBatch(ctx context.Context, job *models.ImportJob, ws []Window) error {
	gsrns := make([]string, len(ws))
	from, to := ws[0].From, ws[0].To
	for i, w := range ws {
		gsrns[i] = w.GSRN
		from, to = minTime(from, w.From), maxTime(to, w.To)
	}
	res, err := IngestWindows(ctx, s.db.DB, ws, func(ctx context.Context, sink eloverblik.Sink) error {
		_, err := s.client.TimeSeries(ctx, gsrns, from, to, sink)
		return err
	})
	if err != nil {
		return err
	}
	job.RowsRead += res.Read
	job.RowsWritten += res.Written
	// Committed: publish what arrived. Publication skips hours already published, so
	// queueing a window again is harmless; a lost task is caught by the next import.
	if res.Written > 0 {
		for _, w := range ws {
			if err := s.queue.EnqueuePublishMeasurements(ctx, w.MeteringPointID, w.From, w.To); err != nil {
				s.log.WarnContext(ctx, "publication not queued", "metering_point_id", w.MeteringPointID, "err", err)
			}
		}
	}
	if res.Rejected > 0 {
		s.log.WarnContext(ctx, "readings rejected", "user_id", job.UserID, "rejected", res.Rejected, "first", res.Problems)
	}
	// Progress is visible while the job runs.
	if _, err := s.db.NewUpdate().Model(job).Set("rows_read = ?, rows_written = ?, window_from = ?, window_to = ?, updated_at = now()",
		job.RowsRead, job.RowsWritten, job.WindowFrom, job.WindowTo).WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("record progress: %w", err)
	}
	s.notify(ctx, *job)
	return nil
}

func monthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// ProgressEvent tells subscribers that an import job changed; they reload it.
type ProgressEvent struct {
	JobID int64 `json:"jobId"`
}

// ProgressTopic is the pub/sub topic of one user's import jobs.
func ProgressTopic(userID int64) string { return "import:user:" + strconv.FormatInt(userID, 10) }

func (s *Service) notify(ctx context.Context, job models.ImportJob) {
	if s.bus == nil {
		return
	}
	b, _ := json.Marshal(ProgressEvent{JobID: job.ID}) // cannot fail for this type
	if err := s.bus.Publish(ctx, ProgressTopic(job.UserID), b); err != nil {
		s.log.WarnContext(ctx, "publish import progress", "job_id", job.ID, "err", err)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails
	return hex.EncodeToString(b)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
