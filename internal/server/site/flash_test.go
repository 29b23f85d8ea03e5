package site

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/quill-blog/quill/internal/auth"
)

// FuzzFlashCookie checks that a confirmation cookie shows one of quill's
// sentences only when this server made it, and is deleted whatever it
// holds.
func FuzzFlashCookie(f *testing.F) {
	s := New(Config{CSRF: auth.NewCSRF([]byte("a test key of at least 32 bytes..."))})
	for key := range flashes {
		f.Add(key + "." + s.csrf.Token("flash:"+key))
	}
	f.Add("post-saved.AAAA")
	f.Add("nothing")
	f.Add(".")
	f.Fuzz(func(t *testing.T, value string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", flashCookie+"="+value)
		if _, err := r.Cookie(flashCookie); err != nil {
			t.Skip() // not a cookie value a browser sends
		}
		w := httptest.NewRecorder()
		got := s.takeFlash(w, r)
		deleted := false
		for _, c := range w.Result().Cookies() {
			deleted = deleted || (c.Name == flashCookie && c.MaxAge < 0)
		}
		if !deleted {
			t.Errorf("takeFlash(%q) left the cookie", value)
		}
		if got == nil {
			return
		}
		// Only a value done would set shows anything, and the sentence of
		// its key.
		for key, want := range flashes {
			if value == key+"."+s.csrf.Token("flash:"+key) {
				if *got != want {
					t.Fatalf("takeFlash(%q) = %+v, want %+v", value, *got, want)
				}
				return
			}
		}
		t.Fatalf("takeFlash(%q) = %+v from a cookie this server did not make", value, *got)
	})
}

// TestDoneSetsFlash checks the cookie a redirect after a change sets, and
// that the next page shows its confirmation once.
func TestDoneSetsFlash(t *testing.T) {
	s := New(Config{CSRF: auth.NewCSRF([]byte("a test key of at least 32 bytes..."))})
	w := httptest.NewRecorder()
	if err := s.done(w, httptest.NewRequest("POST", "/account/password", nil), "/account", "password-changed"); err != nil {
		t.Fatal(err)
	}
	res := w.Result()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account#password" {
		t.Errorf("done = %d to %q, want 303 to /account#password", res.StatusCode, res.Header.Get("Location"))
	}
	cookies := res.Cookies()
	if len(cookies) != 1 || cookies[0].Name != flashCookie || !cookies[0].HttpOnly || cookies[0].MaxAge != flashMaxAge ||
		cookies[0].SameSite != http.SameSiteLaxMode {
		t.Fatalf("done sets %+v, want one HttpOnly, SameSite=Lax cookie %s for %d s", cookies, flashCookie, flashMaxAge)
	}
	r := httptest.NewRequest("GET", "/account", nil)
	r.AddCookie(cookies[0])
	if got := s.takeFlash(httptest.NewRecorder(), r); got == nil || got.Message != flashes["password-changed"].Message {
		t.Errorf("takeFlash after done = %+v", got)
	}
}
