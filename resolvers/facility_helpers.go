package resolvers

import (
	"context"
	"errors"

	"github.com/originhub/originhub/graph"
	"github.com/originhub/originhub/internal/facility"
	"github.com/originhub/originhub/internal/relay"
	"github.com/originhub/originhub/models"
)

func facilityFilter(w *graph.FacilityFilter) facility.Filter {
	if w == nil {
		return facility.Filter{}
	}
	return facility.Filter{Type: w.Type, GSRNs: w.Gsrn, Sectors: w.Sector, Tags: w.Tags, Technologies: w.Technology, Text: deref(w.Text)}
}

func (r *queryResolver) facilities(ctx context.Context, where *graph.FacilityFilter, orderBy *graph.FacilityOrder) ([]models.MeteringPoint, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	order := facility.OrderName
	if orderBy != nil {
		order = facility.Order(*orderBy)
	}
	return r.FacilityService.List(ctx, v.UserID, facilityFilter(where), order)
}

// facilitiesPayload maps a facility mutation's outcome; facilities are the caller's, in
// retiring priority order.
func (r *mutationResolver) facilitiesPayload(ctx context.Context, userID int64, err error) (*graph.FacilitiesPayload, error) {
	out := &graph.FacilitiesPayload{Facilities: []models.MeteringPoint{}, UserErrors: []graph.UserError{}}
	var ie *facility.InputError
	switch {
	case errors.As(err, &ie):
		out.UserErrors = append(out.UserErrors, inputUserError(ie))
		return out, nil
	case errors.Is(err, facility.ErrNotFound), errors.Is(err, relay.ErrInvalidID):
		out.UserErrors = append(out.UserErrors, graph.UserError{Field: []string{"input", "id"}, Message: "no such facility", Code: CodeNotFound})
		return out, nil
	case err != nil:
		return nil, err
	}
	fs, err := r.FacilityService.List(ctx, userID, facility.Filter{}, facility.OrderRetiringPriority)
	if err != nil {
		return nil, err
	}
	out.Facilities = fs
	return out, nil
}

func (r *mutationResolver) editFacility(ctx context.Context, input graph.EditFacilityInput) (*graph.FacilitiesPayload, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	id, err := relay.DecodeIntID(input.ID, typeMeteringPoint)
	if err == nil {
		_, err = r.FacilityService.Edit(ctx, v.UserID, id, input.Name, input.Tags)
	}
	return r.facilitiesPayload(ctx, v.UserID, err)
}

func (r *mutationResolver) setRetiringPriority(ctx context.Context, input graph.SetRetiringPriorityInput) (*graph.FacilitiesPayload, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(input.Ids))
	for i, s := range input.Ids {
		if ids[i], err = relay.DecodeIntID(s, typeMeteringPoint); err != nil {
			return r.facilitiesPayload(ctx, v.UserID, &facility.InputError{Field: "input.ids", Message: "not a metering point id"})
		}
	}
	return r.facilitiesPayload(ctx, v.UserID, r.FacilityService.SetRetiringPriority(ctx, v.UserID, ids))
}
