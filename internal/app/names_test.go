package app_test

import (
	"testing"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/quilltest"
)

func TestNamesTaken(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		register(t, q, "alice", "alice@example.com")
		register(t, q, "bob", "bob@example.com")
		bob := logIn(t, q, "bob", alicePassword)
		for _, tt := range []struct {
			name            string
			c               *app.Caller
			username, email string
			want            app.TakenNames
		}{
			{"both free", nil, "carol", "carol@example.com", app.TakenNames{}},
			{"both taken", nil, "alice", "alice@example.com", app.TakenNames{Username: true, Email: true}},
			{"case and width", nil, "ＡＬＩＣＥ", "Alice@EXAMPLE.com", app.TakenNames{Username: true, Email: true}},
			{"a look-alike", nil, "аlice", "carol@example.com", app.TakenNames{Username: true}},
			{"the email only", nil, "carol", "bob@example.com", app.TakenNames{Email: true}},
			{"an invalid username is not looked up", nil, "alice!", "alice@example.com", app.TakenNames{Email: true}},
			{"an invalid email is not looked up", nil, "alice", "alice@example", app.TakenNames{Username: true}},
			{"nothing asked", nil, "", "", app.TakenNames{}},
			{"a NUL is not looked up", nil, "ali\x00ce", "alice@example.com\x00", app.TakenNames{}},
			{"one's own names are free", bob, "BOB", "bob@example.com", app.TakenNames{}},
			{"someone else's, for a caller", bob, "alice", "alice@example.com", app.TakenNames{Username: true, Email: true}},
		} {
			got, err := q.App.NamesTaken(t.Context(), tt.c, tt.username, tt.email)
			if err != nil || got != tt.want {
				t.Errorf("%s: NamesTaken(%q, %q) = %+v, %v; want %+v", tt.name, tt.username, tt.email, got, err, tt.want)
			}
		}
	})
}
