package blog

import (
	"testing"
	"time"
)

func TestLoginDelay(t *testing.T) {
	tests := []struct {
		failures int
		want     time.Duration
	}{
		{0, 0},
		{1, 0},
		{4, 0},
		{5, 30 * time.Second},
		{6, time.Minute},
		{7, 2 * time.Minute},
		{8, 4 * time.Minute},
		{9, 8 * time.Minute},
		{10, 15 * time.Minute},
		{11, 15 * time.Minute},
		{1000, 15 * time.Minute},
		{1 << 40, 15 * time.Minute},
	}
	for _, tt := range tests {
		if got := LoginDelay(tt.failures); got != tt.want {
			t.Errorf("LoginDelay(%d) = %v, want %v", tt.failures, got, tt.want)
		}
	}
}
