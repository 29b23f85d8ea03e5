package blog

import "time"

// Stamp is something a sitemap lists, a post or an author's page, by id,
// with when it last changed.
type Stamp struct {
	ID       int64
	Modified time.Time // UTC
}
