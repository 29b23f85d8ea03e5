package blog_test

import (
	"testing"
	"unicode/utf8"

	"github.com/quill-blog/quill/internal/blog"
)

func TestUsernameSkeleton(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"ascii", "admin", "adrnln"},
		{"capital", "Admin", "adrnln"},
		{"all capitals", "ADMIN", "adrnln"},
		{"Cyrillic small a", "аdmin", "adrnln"},
		{"Greek capital alpha", "ΑDMIN", "adrnln"},
		{"Greek small alpha", "αdmin", "adrnln"},
		{"small capital A", "ᴀdmin", "adrnln"},
		{"Cherokee small letter go", "ꭺdmin", "adrnln"},
		{"full width", "ａｄｍｉｎ", "adrnln"},
		{"full width capitals", "ＡＤＭＩＮ", "adrnln"},
		{"small capital M", "aᴅᴍin", "adrnln"},
		{"l for i", "admln", "adrnln"},
		{"digit one for i", "adm1n", "adrnln"},
		{"rn for m", "adrnin", "adrnln"},
		{"Cyrillic i", "admіn", "adrnln"},
		{"dotless i", "admın", "adrnln"},
		{"capital I for l", "aIice", "allce"},
		{"digit one for l", "a1ice", "allce"},
		{"vertical line for l", "a|ice", "allce"},
		{"plain", "alice", "allce"},
		{"digit zero", "b0b", "bob"},
		{"capital O", "BOB", "bob"},
		{"Greek omicron", "bοb", "bob"},
		{"Cyrillic en, a small capital H", "нello", "hello"},
		{"Cyrillic te, a small capital T", "тed", "ted"},
		{"Cyrillic ka, a small capital K", "кate", "kate"},
		{"small capital K", "ᴋate", "kate"},
		{"Cyrillic capitals", "АСЕ", "ace"},
		{"accent kept", "émile", "e\u0301rnlle"},
		{"decomposed accent", "e\u0301mile", "e\u0301rnlle"},
		{"no accent", "emile", "ernlle"},
		{"Chinese unchanged", "用户", "用户"},
		{"punctuation kept", "a_b-c.d", "a_b-c.d"},
		{"empty", "", ""},
		{"invalid UTF-8", "a\xffb", "a\ufffdb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := blog.UsernameSkeleton(tt.in); got != tt.want {
				t.Errorf("UsernameSkeleton(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestUsernameSkeletonDistinct lists names that must stay apart: they do
// not look alike in any case.
func TestUsernameSkeletonDistinct(t *testing.T) {
	tests := []struct{ name, a, b string }{
		{"different names", "alice", "bob"},
		{"one a prefix of the other", "alice", "alicia"},
		{"accent", "émile", "emile"},
		{"diaeresis", "zoë", "zoe"},
		{"digits", "user1", "user2"},
		{"letters that look nothing alike", "bob", "rob"},
		{"doubled letter", "ana", "anna"},
		{"punctuation", "b.ob", "bob"},
		{"two v are not w", "vvill", "will"},
		{"sharp s is not ss", "straße", "strasse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := blog.UsernameSkeleton(tt.a), blog.UsernameSkeleton(tt.b)
			if a == b {
				t.Errorf("UsernameSkeleton(%q) = UsernameSkeleton(%q) = %q, want different", tt.a, tt.b, a)
			}
		})
	}
}

// TestUsernameSkeletonFollowsKey checks that names that are one account
// (the same UsernameKey) have one skeleton, and that a skeleton is its own
// skeleton.
func TestUsernameSkeletonFollowsKey(t *testing.T) {
	names := []string{
		"alice", "Alice", "ALICE", "Ａｌｉｃｅ", "zoë", "Zoe\u0308", "ZOË", "δοκιμή", "ΔΟΚΙΜΉ",
		"USER４２", "İstanbul", "i\u0307stanbul", "Σίσυφος", "ΣΊΣΥΦΟΣ", "Пользователь",
	}
	for _, n := range names {
		t.Run(n, func(t *testing.T) {
			key, err := blog.UsernameKey(n)
			if err != nil {
				t.Fatalf("UsernameKey(%q) error: %v", n, err)
			}
			got, want := blog.UsernameSkeleton(n), blog.UsernameSkeleton(key)
			if got != want {
				t.Errorf("UsernameSkeleton(%q) = %q, want %q, the skeleton of its key %q", n, got, want, key)
			}
			if again := blog.UsernameSkeleton(got); again != got {
				t.Errorf("UsernameSkeleton(%q) = %q, want %q, itself", got, again, got)
			}
		})
	}
}

func FuzzUsernameSkeleton(f *testing.F) {
	for _, s := range []string{"admin", "ΑDMIN", "ᴀdmin", "e\u0301mile", "İ", "a\xffb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := blog.UsernameSkeleton(s)
		if !utf8.ValidString(got) {
			t.Fatalf("UsernameSkeleton(%q) = %q, not valid UTF-8", s, got)
		}
		if again := blog.UsernameSkeleton(got); again != got {
			t.Fatalf("UsernameSkeleton(%q) = %q, want %q, itself", got, again, got)
		}
		var v blog.Validator
		name := v.Username(s)
		if v.Err() != nil {
			return
		}
		if got == "" {
			t.Fatalf("UsernameSkeleton(%q) = \"\" for a valid username", s)
		}
		key, err := blog.UsernameKey(name)
		if err != nil {
			t.Fatalf("UsernameKey(%q) error for a valid username: %v", name, err)
		}
		if want := blog.UsernameSkeleton(key); got != want {
			t.Fatalf("UsernameSkeleton(%q) = %q, want %q, the skeleton of its key %q", s, got, want, key)
		}
	})
}

func BenchmarkUsernameSkeleton(b *testing.B) {
	for _, name := range []string{"alice_smith", "аdmin", "Пользователь"} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				blog.UsernameSkeleton(name)
			}
		})
	}
}
