package auth

import "time"

// ObserveSlots makes h call f after each wait for a hashing slot, with how
// long it waited (0 when a slot was free) and whether it was turned away
// with ErrBusy because none freed up in time. A wait that ends because its
// context did (the client went away) is not reported. f runs on the
// waiting goroutine, so it must be quick and safe for concurrent use.
//
// Call ObserveSlots before h is used; it is not safe to call concurrently
// with hashing.
func (h *Hasher) ObserveSlots(f func(waited time.Duration, busy bool)) {
	h.slotObserver = f
}

func (h *Hasher) observed(waited time.Duration, busy bool) {
	if h.slotObserver != nil {
		h.slotObserver(waited, busy)
	}
}
