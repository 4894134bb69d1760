package auth

import (
	"container/list"
	"context"
	"sync"
)

// DefaultSubjectCacheSize is a size for OncePerSubject that covers the
// active users of one API replica many times over in a few MB.
const DefaultSubjectCacheSize = 10_000

// OncePerSubject wraps hook so that it runs only until it has succeeded once
// for a subject ID, remembering at most size subjects (least recently seen
// are forgotten first, and simply run the hook again). A failed call is not
// remembered, so the next request retries it. Two concurrent first requests
// of one subject may both run hook, so hook must be idempotent (an upsert).
//
// The memory is per process: it saves writes, it does not replace the
// database's uniqueness. A size below 1 means DefaultSubjectCacheSize.
func OncePerSubject(size int, hook SubjectHook) SubjectHook {
	if size < 1 {
		size = DefaultSubjectCacheSize
	}
	c := &subjectLRU{size: size, items: make(map[string]*list.Element, size), order: list.New()}
	return func(ctx context.Context, s Subject) error {
		if c.seen(s.ID) {
			return nil
		}
		if err := hook(ctx, s); err != nil {
			return err
		}
		c.add(s.ID)
		return nil
	}
}

// subjectLRU is a bounded set of subject IDs in least-recently-used order.
type subjectLRU struct {
	mu    sync.Mutex
	size  int
	items map[string]*list.Element
	order *list.List // front = most recently used; values are IDs
}

func (c *subjectLRU) seen(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[id]
	if ok {
		c.order.MoveToFront(e)
	}
	return ok
}

func (c *subjectLRU) add(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[id]; ok {
		c.order.MoveToFront(e)
		return
	}
	c.items[id] = c.order.PushFront(id)
	if c.order.Len() > c.size {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.items, oldest.Value.(string))
	}
}
