package app

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/auth"
	"github.com/quill-blog/quill/internal/blog"
)

func TestLoginOutcome(t *testing.T) {
	v := blog.Validator{}
	v.Check(false, "missing", "Field required", "body", "password")
	invalid := v.Err()
	tests := []struct {
		name string
		err  error
		want LoginOutcome
	}{
		{"success", nil, LoginOK},
		{"bad credentials", blog.ErrBadCredentials, LoginBadCredentials},
		{"busy", auth.ErrBusy, LoginBusy},
		{"busy, the client gone", fmt.Errorf("%w: %w", auth.ErrBusy, context.Canceled), LoginBusy},
		{"throttled", blog.TooManyLogins(time.Minute), LoginThrottled},
		{"a missing field", invalid, LoginInvalid},
		{"database unavailable", blog.ErrUnavailable, LoginError},
		{"a fault", errors.New("disk on fire"), LoginError},
	}
	for _, tt := range tests {
		if got := loginOutcome(tt.err); got != tt.want {
			t.Errorf("%s: loginOutcome(%v) = %q, want %q", tt.name, tt.err, got, tt.want)
		}
	}
}
