package engine

import (
	"errors"

	"github.com/containerd/errdefs"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func isUnimplemented(err error) bool {
	if errdefs.IsNotImplemented(err) {
		return true
	}
	s, ok := status.FromError(err)
	return ok && s.Code() == codes.Unimplemented
}

func grpcStatusMessage(err error) (string, bool) {
	s, ok := status.FromError(err)
	if !ok {
		return "", false
	}
	return s.Message(), true
}

func isUnavailable(err error) bool {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if s, ok := status.FromError(e); ok && s.Code() == codes.Unavailable {
			return true
		}
	}
	return false
}
