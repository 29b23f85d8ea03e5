package memlimit

import (
	"sync"
	"testing"
)

func TestLimit(t *testing.T) {
	var mu sync.Mutex
	var applied []int64
	set := func(n int64) int64 {
		mu.Lock()
		defer mu.Unlock()
		applied = append(applied, n)
		return 42 // the limit before
	}
	l := New(100, set)
	a := l.Reserve(10)
	b := l.Reserve(5)
	if got := l.Current(); got != 115 {
		t.Errorf("Current() with 10 and 5 reserved = %d, want 115", got)
	}
	a()
	a() // a second call changes nothing
	if got := l.Current(); got != 105 {
		t.Errorf("Current() after one release = %d, want 105", got)
	}
	b()
	if got, want := applied, []int64{100, 110, 115, 105, 100}; len(got) != len(want) {
		t.Errorf("limits applied = %v, want %v", got, want)
	} else {
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("limits applied = %v, want %v", got, want)
				break
			}
		}
	}

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				l.Reserve(64 << 20)()
			}
		})
	}
	wg.Wait()
	if got := l.Current(); got != 100 {
		t.Errorf("Current() after every reservation was released = %d, want 100", got)
	}
}

func TestLimitClose(t *testing.T) {
	var last int64
	l := New(100, func(n int64) int64 { last = n; return 42 })
	release := l.Reserve(10)
	l.Close()
	if last != 42 {
		t.Errorf("after Close the limit is %d, want the one before New, 42", last)
	}
	release()
	l.Reserve(5)
	if last != 42 {
		t.Errorf("a reservation after Close set the limit to %d", last)
	}
}
