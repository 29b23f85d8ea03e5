package blog

import (
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// TestConfusablesTable checks what prototypeOf relies on: the table is
// sorted, holds only characters that NFD keeps, with prototypes in NFD, and
// none of the readings added in prototypeOf is in it.
func TestConfusablesTable(t *testing.T) {
	if len(confusables) < 5000 {
		t.Fatalf("confusables has %d entries, want over 5000", len(confusables))
	}
	for i, c := range confusables {
		if i > 0 && confusables[i-1].r >= c.r {
			t.Errorf("confusables[%d] = %U follows %U: not sorted", i, c.r, confusables[i-1].r)
		}
		if !norm.NFD.IsNormalString(string(c.r)) {
			t.Errorf("confusables has %U, which NFD decomposes", c.r)
		}
		if !norm.NFD.IsNormalString(c.proto) || c.proto == string(c.r) {
			t.Errorf("confusables maps %U to %+q, want another string in NFD", c.r, c.proto)
		}
	}
	for _, r := range "iᴀʙᴅᴇꜰɢʜᴊĸʟʍɴᴘꞯʀᴛ" {
		for _, c := range confusables {
			if c.r == r {
				t.Errorf("confusables has %U, which prototypeOf reads itself", r)
			}
		}
		p, ok := prototypeOf(r)
		if !ok || len(p) != 1 || p[0] < 'a' || p[0] > 'z' {
			t.Errorf("prototypeOf(%U) = %q, %v; want a letter a-z", r, p, ok)
		}
	}
}

// TestUsernameSkeletonSettles checks every character: its skeleton settles
// in fewer than skeletonRounds rounds, so UsernameSkeleton returns a
// skeleton that is its own, and a character that is a valid username alone
// has a skeleton that is not empty.
func TestUsernameSkeletonSettles(t *testing.T) {
	f := newFolder()
	most, slowest := 0, rune(0)
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		k := f.fold(string(r))
		rounds := 0
		for ; rounds < 2*skeletonRounds; rounds++ {
			next := f.fold(replacePrototypes(k))
			if next == k {
				break
			}
			k = next
		}
		if rounds > most {
			most, slowest = rounds, r
		}
		if k == "" {
			var v Validator
			if v.Username(string(r)); v.Err() == nil {
				t.Errorf("UsernameSkeleton(%q) = \"\" for a valid username", string(r))
			}
		}
	}
	if most >= skeletonRounds {
		t.Errorf("UsernameSkeleton(%q) takes %d rounds to settle, want fewer than %d", string(slowest), most, skeletonRounds)
	}
	t.Logf("the slowest character, %U, settles after %d rounds", slowest, most)
}
