package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
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
	// ErrTooLargeAnswer marks a batch whose answer would be over Options.MaxResponseBytes
	// (ResourceExhausted).
	ErrTooLargeAnswer = errors.New("serve: answer too large")
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
		return propertyStatus(codes.InvalidArgument, err.Error(), pe.Property)
	case errors.Is(err, models.ErrNotFound), errors.Is(err, models.ErrDanglingLabel):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, ErrBadRequest):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, ErrOverloaded), errors.Is(err, ErrTooLargeAnswer):
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

// propertyStatus is a status error that names property, when not empty, in a google.rpc.BadRequest
// field violation, so that a gRPC client and the REST front can tell which property was at fault
// without reading the message.
func propertyStatus(code codes.Code, msg, property string) error {
	st := status.New(code, msg)
	if property == "" {
		return st.Err()
	}
	br := &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: property, Description: msg}}}
	if withDetails, err := st.WithDetails(br); err == nil {
		return withDetails.Err()
	}
	return st.Err()
}

// statusProperty returns the property a status names (see propertyStatus), or "".
func statusProperty(st *status.Status) string {
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) > 0 {
			return br.GetFieldViolations()[0].GetField()
		}
	}
	return ""
}
