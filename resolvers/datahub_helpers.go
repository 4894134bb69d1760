package resolvers

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/vikstrous/dataloadgen"

	"github.com/originhub/originhub/graph"
	"github.com/originhub/originhub/internal/datahub"
	"github.com/originhub/originhub/internal/loaders"
	"github.com/originhub/originhub/internal/pubsub"
	"github.com/originhub/originhub/internal/user"
	"github.com/originhub/originhub/models"
)

const (
	typeMeteringPoint = "MeteringPoint"
	typeImportJob     = "ImportJob"
)

// loadMeteringPoint loads one of the viewer's metering points through the request's loader;
// nil when it is not theirs.
func loadMeteringPoint(ctx context.Context, id int64) (*models.MeteringPoint, error) {
	l := loaders.For(ctx)
	if l == nil {
		return nil, ErrUnauthenticated
	}
	mp, err := l.MeteringPoint(ctx, id)
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &mp, nil
}

func meteringPointFilter(w *graph.MeteringPointFilter) datahub.MeteringPointFilter {
	if w == nil {
		return datahub.MeteringPointFilter{}
	}
	return datahub.MeteringPointFilter{Type: deref(w.Type), Sector: deref(w.Sector), GSRNs: w.Gsrn, Technology: deref(w.Technology)}
}

func measurementFilter(w *graph.MeasurementFilter) datahub.MeasurementFilter {
	if w == nil {
		return datahub.MeasurementFilter{}
	}
	f := datahub.MeasurementFilter{Points: datahub.MeteringPointFilter{
		Type: deref(w.Type), Sector: deref(w.Sector), GSRNs: w.Gsrn, Technology: deref(w.Technology),
	}}
	if w.Begin != nil {
		f.From, f.Until = w.Begin.Gte, w.Begin.Lt
	}
	return f
}

func (r *mutationResolver) importMeasurements(ctx context.Context, input graph.ImportMeasurementsInput) (*graph.ImportMeasurementsPayload, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	out := &graph.ImportMeasurementsPayload{Jobs: []models.ImportJob{}, UserErrors: []graph.UserError{}}
	var ids []int64
	if input.Gsrn != nil {
		mp, err := r.DataHub.MeteringPointByGSRN(ctx, v.UserID, *input.Gsrn)
		if errors.Is(err, datahub.ErrNotFound) {
			out.UserErrors = append(out.UserErrors, graph.UserError{Field: []string{"input", "gsrn"}, Message: "no such metering point of yours", Code: CodeNotFound})
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		ids = []int64{mp.ID}
	} else {
		all, err := r.DataHub.MeteringPointIDs(ctx, v.UserID)
		if err != nil {
			return nil, err
		}
		ids = all
	}
	for _, id := range ids {
		job, err := r.DataHub.QueueMeasurementImport(ctx, v.UserID, id)
		if err != nil {
			return nil, err
		}
		out.Jobs = append(out.Jobs, job)
	}
	return out, nil
}

// subscribeImportProgress streams the viewer's import job changes, reloaded per event.
func subscribeImportProgress(ctx context.Context, bus *pubsub.Bus, src loaders.Sources, v user.Viewer) (<-chan *models.ImportJob, error) {
	events, err := bus.Subscribe(ctx, datahub.ProgressTopic(v.UserID))
	if err != nil {
		return nil, err
	}
	out := make(chan *models.ImportJob)
	go func() {
		defer close(out)
		for raw := range events {
			var ev datahub.ProgressEvent
			if json.Unmarshal(raw, &ev) != nil {
				continue
			}
			job, err := loaders.New(src, v).ImportJob(ctx, ev.JobID)
			if err != nil {
				continue
			}
			select {
			case out <- &job:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}
