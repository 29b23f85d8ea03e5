package markdown

import (
	"container/list"
	"sync"
)

// Cache keeps rendered posts by id, so a post read many times is rendered
// once. An entry holds its source and is used only for exactly that
// source: an edited post is rendered again, and nothing stale is ever
// returned. It keeps at most a budget of bytes, dropping the least
// recently used entries first. It is safe for concurrent use.
type Cache struct {
	mu      sync.Mutex
	budget  int
	size    int
	entries map[int64]*list.Element // of *cacheEntry
	order   list.List               // most recently used first
}

type cacheEntry struct {
	id       int64
	source   string
	rendered Rendered
}

// entryOverhead approximates an entry's bookkeeping, in bytes.
const entryOverhead = 160

func (e *cacheEntry) size() int {
	return entryOverhead + len(e.source) + len(e.rendered.HTML) + len(e.rendered.Excerpt)
}

// NewCache returns a cache of at most budget bytes of sources and
// renderings.
func NewCache(budget int) *Cache {
	return &Cache{budget: budget, entries: map[int64]*list.Element{}}
}

// Render returns Render(source), from the cache if the entry for id was
// rendered from the same source.
func (c *Cache) Render(id int64, source string) Rendered {
	c.mu.Lock()
	if el, ok := c.entries[id]; ok {
		e := el.Value.(*cacheEntry)
		if e.source == source {
			c.order.MoveToFront(el)
			c.mu.Unlock()
			return e.rendered
		}
	}
	c.mu.Unlock()

	// Rendering takes far longer than the lock is held: others go on.
	r := Render(source)
	e := &cacheEntry{id: id, source: source, rendered: r}
	if e.size() > c.budget {
		return r
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[id]; ok {
		c.size -= el.Value.(*cacheEntry).size()
		c.order.Remove(el)
	}
	c.entries[id] = c.order.PushFront(e)
	c.size += e.size()
	for c.size > c.budget {
		last := c.order.Back()
		old := last.Value.(*cacheEntry)
		c.order.Remove(last)
		delete(c.entries, old.id)
		c.size -= old.size()
	}
	return r
}

// Forget drops the entry for id, if any: for a deleted post.
func (c *Cache) Forget(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[id]; ok {
		c.size -= el.Value.(*cacheEntry).size()
		c.order.Remove(el)
		delete(c.entries, id)
	}
}

// Len is the number of entries.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// Size is the bytes the entries are counted as.
func (c *Cache) Size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size
}
