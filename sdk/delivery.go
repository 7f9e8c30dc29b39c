package sdk

import (
	"errors"
	"fmt"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// DeliveryError is how an alert plugin tells hemostatd what to do about a
// notification it could not deliver. hemostatd owns the retries, so that
// every alert plugin gets the same policy: a permanent failure is not
// retried (and is logged once until a delivery succeeds again); a failure
// with RetryAfter is retried after that wait; any other failure is
// retried with backoff.
type DeliveryError struct {
	Err error
	// Permanent says retrying cannot help: bad credentials, an unknown
	// channel, a 4xx answer.
	Permanent bool
	// RetryAfter is the wait the service asked for (HTTP 429 Retry-After).
	RetryAfter time.Duration
}

func (e *DeliveryError) Error() string { return e.Err.Error() }

func (e *DeliveryError) Unwrap() error { return e.Err }

// Permanent marks err as a failure that retrying cannot cure.
func Permanent(err error) error { return &DeliveryError{Err: err, Permanent: true} }

// RetryAfter marks err as a failure to retry after d.
func RetryAfter(err error, d time.Duration) error { return &DeliveryError{Err: err, RetryAfter: d} }

// IsPermanent reports whether err, as a plugin returned it or as it
// arrived at the host over gRPC, is a permanent delivery failure.
func IsPermanent(err error) bool {
	var de *DeliveryError
	if errors.As(err, &de) {
		return de.Permanent
	}
	st, ok := grpcStatus(err)
	return ok && st.Code() == codes.FailedPrecondition
}

// RetryAfterOf returns the wait a delivery failure asked for, if any.
func RetryAfterOf(err error) (time.Duration, bool) {
	var de *DeliveryError
	if errors.As(err, &de) {
		return de.RetryAfter, de.RetryAfter > 0
	}
	st, ok := grpcStatus(err)
	if !ok {
		return 0, false
	}
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay() != nil {
			return ri.GetRetryDelay().AsDuration(), true
		}
	}
	return 0, false
}

func grpcStatus(err error) (*status.Status, bool) {
	var se interface{ GRPCStatus() *status.Status }
	if !errors.As(err, &se) {
		return nil, false
	}
	return se.GRPCStatus(), true
}

// deliveryStatus carries a Notify failure over gRPC: FailedPrecondition for
// a permanent one, ResourceExhausted with a RetryInfo for a wait, Aborted
// otherwise. Never Unavailable, which the host reads as "the plugin process
// is gone".
func deliveryStatus(err error) error {
	var de *DeliveryError
	if !errors.As(err, &de) {
		return status.Error(codes.Aborted, err.Error())
	}
	switch {
	case de.Permanent:
		return status.Error(codes.FailedPrecondition, err.Error())
	case de.RetryAfter > 0:
		st := status.New(codes.ResourceExhausted, err.Error())
		if withInfo, derr := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(de.RetryAfter)}); derr == nil {
			st = withInfo
		}
		return st.Err()
	}
	return status.Error(codes.Aborted, fmt.Sprint(err))
}
