package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
)

// Errors the service returns; toStatus maps each to a gRPC code.
var (
	// ErrBadRequest marks a request that can never succeed as sent (InvalidArgument).
	ErrBadRequest = errors.New("serve: bad request")
	// ErrOverloaded marks a call shed because the concurrency limit was reached (ResourceExhausted).
	ErrOverloaded = errors.New("serve: too many concurrent requests")
	// ErrUnknownProperty is the cause of a *features.PropertyError for a property the model and the
	// rules do not read, returned instead of a warning in strict mode (InvalidArgument).
	ErrUnknownProperty = errors.New("serve: unknown property")
)

// toStatus is the one place where domain errors become gRPC status errors. Only unexpected errors
// (Internal) are logged; the client sees their message too, which never holds contact data.
func toStatus(log *slog.Logger, method string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	var pe *features.PropertyError
	switch {
	case errors.As(err, &pe):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, models.ErrNotFound):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, ErrBadRequest):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, ErrOverloaded):
		return status.Error(codes.ResourceExhausted, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	}
	log.Error("serve: unexpected error", "method", method, "err", err)
	return status.Error(codes.Internal, fmt.Sprintf("serve: internal error: %v", err))
}

// propertyOf returns the property an error names, or "".
func propertyOf(err error) string {
	var pe *features.PropertyError
	if errors.As(err, &pe) {
		return pe.Property
	}
	return ""
}
