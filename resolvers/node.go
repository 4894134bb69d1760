package resolvers

import (
	"context"
	"errors"
	"strconv"

	"github.com/vikstrous/dataloadgen"

	"github.com/originhub/originhub/internal/agreement"
	"github.com/originhub/originhub/internal/forecast"
	"github.com/originhub/originhub/internal/loaders"
	"github.com/originhub/originhub/internal/relay"
	"github.com/originhub/originhub/internal/user"
	"github.com/originhub/originhub/models"
)

// GraphQL type names used in global IDs.
const (
	typeUser        = "User"
	typeLedgerBatch = "LedgerBatch"
)

// node resolves a global ID for the viewer. Objects the viewer may not see resolve to null,
// exactly like objects that do not exist, so IDs reveal nothing about other users.
func (r *Resolver) node(ctx context.Context, id string) (models.Node, error) {
	gid, err := relay.DecodeID(id)
	if err != nil {
		return nil, err
	}
	v, ok := user.ViewerFrom(ctx)
	if !ok {
		return nil, nil // every Node type so far is private
	}
	var n models.Node
	switch gid.Type {
	case typeUser:
		key, perr := strconv.ParseInt(gid.Key, 10, 64)
		if perr != nil {
			return nil, relay.ErrInvalidID
		}
		var u models.User
		if u, err = r.Users.ByID(ctx, v, key); err == nil {
			n = &u
		}
	case typeMeteringPoint, typeImportJob:
		key, perr := strconv.ParseInt(gid.Key, 10, 64)
		if perr != nil {
			return nil, relay.ErrInvalidID
		}
		if gid.Type == typeMeteringPoint {
			var mp models.MeteringPoint
			if mp, err = loaders.For(ctx).MeteringPoint(ctx, key); err == nil {
				n = &mp
			}
		} else {
			var j models.ImportJob
			if j, err = loaders.For(ctx).ImportJob(ctx, key); err == nil {
				n = &j
			}
		}
	case typeGgo, typeGgoOperation:
		key, perr := strconv.ParseInt(gid.Key, 10, 64)
		if perr != nil {
			return nil, relay.ErrInvalidID
		}
		if gid.Type == typeGgo {
			var g models.Ggo
			if g, err = loaders.For(ctx).Ggo(ctx, key); err == nil {
				n = &g
			}
		} else {
			var op models.GgoOperation
			if op, err = loaders.For(ctx).Operation(ctx, key); err == nil {
				n = &op
			}
		}
	case typeAgreement:
		key, perr := strconv.ParseInt(gid.Key, 10, 64)
		if perr != nil {
			return nil, relay.ErrInvalidID
		}
		var a models.Agreement
		if a, err = r.AgreementService.Get(ctx, v.UserID, key); err == nil {
			n = &a
		}
	case typeForecast:
		var f models.Forecast
		if f, err = r.ForecastService.Get(ctx, v.UserID, gid.Key); err == nil {
			n = &f
		}
	case typeLedgerBatch:
		var b models.LedgerBatch
		if b, err = loaders.For(ctx).LedgerBatch(ctx, gid.Key); err == nil {
			n = &b
		}
	default:
		return nil, relay.ErrInvalidID
	}
	if errors.Is(err, user.ErrNotFound) || errors.Is(err, dataloadgen.ErrNotFound) ||
		errors.Is(err, agreement.ErrNotFound) || errors.Is(err, forecast.ErrNotFound) {
		return nil, nil
	}
	return n, err
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
