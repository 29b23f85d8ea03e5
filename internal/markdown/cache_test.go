package markdown

import (
	"fmt"
	"sync"
	"testing"
)

func TestCache(t *testing.T) {
	c := NewCache(4 << 10)
	first := c.Render(1, "# One")
	if want := Render("# One"); first != want {
		t.Fatalf("Render(1, %q) = %+v, want %+v", "# One", first, want)
	}
	if got := c.Render(1, "*edited*"); got.HTML != "<p><em>edited</em></p>\n" {
		t.Errorf("after an edit, Render(1) = %q: stale", got.HTML)
	}
	if c.Len() != 1 {
		t.Errorf("Len() = %d after two sources of one id, want 1", c.Len())
	}
	c.Forget(1)
	if c.Len() != 0 || c.Size() != 0 {
		t.Errorf("after Forget, Len() = %d, Size() = %d; want 0, 0", c.Len(), c.Size())
	}

	// The budget holds: the least recently used go first.
	post := func(i int) string { return fmt.Sprintf("Post %d, of some length: %0200d", i, i) }
	for i := range 100 {
		c.Render(int64(i), post(i))
		c.Render(0, post(0)) // keep 0 in use
	}
	if c.Size() > 4<<10 {
		t.Errorf("Size() = %d, over the budget of %d", c.Size(), 4<<10)
	}
	if c.Len() < 3 {
		t.Errorf("Len() = %d: the budget holds more", c.Len())
	}
	c.mu.Lock()
	_, kept := c.entries[0]
	_, dropped := c.entries[1]
	c.mu.Unlock()
	if !kept || dropped {
		t.Errorf("entry 0 (recently used) kept = %v, entry 1 (not) kept = %v", kept, dropped)
	}

	// A post larger than the budget is rendered, not kept.
	big := string(make([]byte, 8<<10))
	c.Render(7, big)
	c.mu.Lock()
	_, ok := c.entries[7]
	c.mu.Unlock()
	if ok {
		t.Error("an entry over the whole budget was kept")
	}
}

func TestCacheConcurrent(t *testing.T) {
	c := NewCache(64 << 10)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				id := int64(i % 16)
				src := fmt.Sprintf("*%d* by %d", i%16, (i+g)%3)
				if got, want := c.Render(id, src), Render(src); got != want {
					t.Errorf("Render(%d, %q) = %+v, want %+v", id, src, got, want)
				}
			}
		})
	}
	wg.Wait()
}

// FuzzCache holds the cache to Render's answers over any sequence of
// renders, edits and deletions (a differential test of the fast path).
func FuzzCache(f *testing.F) {
	f.Add([]byte{1, 2, 1, 3, 0xff, 1}, "a", "*b*")
	f.Add([]byte{0, 0, 0}, "", "# x")
	f.Fuzz(func(t *testing.T, ops []byte, a, b string) {
		c := NewCache(1 << 10)
		for i, op := range ops {
			id := int64(op % 4)
			src := a
			if op&4 != 0 {
				src = b
			}
			if op&0xf0 == 0xf0 {
				c.Forget(id)
				continue
			}
			if got, want := c.Render(id, src), Render(src); got != want {
				t.Fatalf("op %d: Render(%d, %q) = %+v, want %+v", i, id, src, got, want)
			}
			if c.Size() > 1<<10 {
				t.Fatalf("op %d: Size() = %d, over the budget", i, c.Size())
			}
		}
	})
}
