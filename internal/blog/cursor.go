package blog

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Cursor is a position in the newest-first order of posts: the last post a
// page showed. Posts sort by DatePosted, then ID, both descending, so a
// cursor page is an index range scan however deep it is.
type Cursor struct {
	DatePosted time.Time
	ID         int64
}

// String encodes c as an opaque, URL-safe token.
func (c Cursor) String() string {
	raw := strconv.FormatInt(c.DatePosted.UnixMicro(), 10) + "." + strconv.FormatInt(c.ID, 10)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// ParseCursor decodes a token made by Cursor.String. Anything else is an
// error; the token is client input and is checked strictly.
func ParseCursor(s string) (Cursor, error) {
	bad := errors.New("invalid cursor")
	if s == "" || len(s) > 64 {
		return Cursor{}, bad
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return Cursor{}, bad
	}
	micros, id, ok := strings.Cut(string(raw), ".")
	if !ok {
		return Cursor{}, bad
	}
	us, err := strconv.ParseInt(micros, 10, 64)
	if err != nil {
		return Cursor{}, bad
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return Cursor{}, bad
	}
	c := Cursor{DatePosted: time.UnixMicro(us).UTC(), ID: n}
	if c.String() != s { // one spelling per position: no leading zeros, "+" signs
		return Cursor{}, bad
	}
	return c, nil
}
