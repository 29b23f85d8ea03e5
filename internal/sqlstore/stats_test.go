package sqlstore

import (
	"context"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/testclock"
)

func TestLiveSessions(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		now := clock.Now()
		if n, err := s.LiveSessions(ctx, now); err != nil || n != 0 {
			t.Fatalf("LiveSessions() on an empty store = %d, %v, want 0, nil", n, err)
		}
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		createSession(t, s, alice, "live", now.Add(-time.Hour), 2*time.Hour)
		createSession(t, s, alice, "expired", now.Add(-2*time.Hour), time.Hour)
		createSession(t, s, alice, "expires now", now.Add(-time.Hour), time.Hour)
		createSession(t, s, bob, "bob's", now, time.Hour)

		tests := []struct {
			name string
			at   time.Time
			want int64
		}{
			{"now: the expired ones and the one expiring at this instant do not count", now, 2},
			{"an hour and a half ago, before any had expired", now.Add(-90 * time.Minute), 4},
			{"after the last expiry", now.Add(2 * time.Hour), 0},
		}
		for _, tt := range tests {
			if n, err := s.LiveSessions(ctx, tt.at); err != nil || n != tt.want {
				t.Errorf("%s: LiveSessions() = %d, %v, want %d, nil", tt.name, n, err, tt.want)
			}
		}
	})
}

func TestPoolStats(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		s, _ := newTestStore(t, db)
		if err := s.Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
		read, write := s.PoolStats()
		if read.OpenConnections < 1 || write.OpenConnections < 1 {
			t.Errorf("PoolStats() open connections = %d read, %d write, want at least 1 each (the store pinged both at Open)",
				read.OpenConnections, write.OpenConnections)
		}
		if read.InUse != 0 || write.InUse != 0 {
			t.Errorf("PoolStats() in use = %d read, %d write, want 0 between calls", read.InUse, write.InUse)
		}
		if db.name == "sqlite" && write.MaxOpenConnections != 1 {
			t.Errorf("SQLite write pool MaxOpenConnections = %d, want 1 (one writer)", write.MaxOpenConnections)
		}
	})
	t.Run("memory", func(t *testing.T) {
		s := openTestStore(t, "sqlite://:memory:", testclock.New())
		read, write := s.PoolStats()
		if read != write || read.MaxOpenConnections != 1 {
			t.Errorf("PoolStats() of an in-memory store = %+v, %+v, want one pool of one connection", read, write)
		}
	})
}
