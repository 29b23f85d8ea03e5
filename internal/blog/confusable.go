package blog

import (
	"cmp"
	"slices"
	"strings"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

//go:generate go run gen_confusables.go

// skeletonRounds bounds the lookups UsernameSkeleton repeats; every
// character settles in fewer (TestUsernameSkeletonSettles).
const skeletonRounds = 8

// UsernameSkeleton returns the form in which usernames that look alike are
// equal, so that a name that could pass for a taken one can be refused.
// Names with the same UsernameKey have the same skeleton, and a skeleton is
// its own skeleton. It is for comparing, not for display.
//
// It is the UTS #39 confusable skeleton (NFD, each character replaced by
// its prototype, NFD) of the name folded for width and case as UsernameKey
// folds it, folded and replaced again until nothing changes, because a
// prototype may be a capital (0 is read as O, so as o). Names are compared
// without case but shown as typed, so two readings are added: a Latin small
// capital is its letter (ᴀdmin is admin), and i is l, since UTS #39 reads a
// capital I as l.
//
// Familiar pairs that collide: 0, o and O; 1, i, l, I and |; m and rn. So
// admin, ADMIN, adm1n, admln, adrnin and аdmin (Cyrillic а) are one name,
// but émile and emile are two: accents count. A capital is read as its
// small letter: Greek Η looks like H but is read as η, which looks like n.
func UsernameSkeleton(s string) string {
	f := newFolder()
	k := f.fold(strings.ToValidUTF8(s, "\uFFFD"))
	for range skeletonRounds {
		next := f.fold(replacePrototypes(k))
		if next == k {
			break
		}
		k = next
	}
	return k
}

// folder folds width and case as UsernameKey does, and returns NFD.
type folder struct{ lower cases.Caser }

// newFolder returns a folder for one goroutine: a Caser keeps state.
func newFolder() folder {
	return folder{cases.Lower(language.Und, cases.HandleFinalSigma(false))}
}

func (f folder) fold(s string) string {
	return norm.NFD.String(f.lower.String(width.Fold.String(s)))
}

// replacePrototypes replaces each character of s by its prototype.
func replacePrototypes(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if p, ok := prototypeOf(r); ok {
			b.WriteString(p)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// prototype is an entry of the confusables table: r looks like proto.
type prototype struct {
	r     rune
	proto string
}

// prototypeOf returns what r is read as: its prototype in confusables, or
// one of the readings UsernameSkeleton adds.
func prototypeOf(r rune) (string, bool) {
	if i, ok := slices.BinarySearchFunc(confusables[:], r, func(p prototype, r rune) int {
		return cmp.Compare(p.r, r)
	}); ok {
		return confusables[i].proto, true
	}
	switch r {
	case 'i':
		return "l", true // as its capital I is
	// Prototypes that stand for a small capital, and so for its letter: the
	// small capitals themselves, ĸ for ᴋ and ʍ for ᴍ.
	case 'ᴀ':
		return "a", true
	case 'ʙ':
		return "b", true
	case 'ᴅ':
		return "d", true
	case 'ᴇ':
		return "e", true
	case 'ꜰ':
		return "f", true
	case 'ɢ':
		return "g", true
	case 'ʜ':
		return "h", true
	case 'ᴊ':
		return "j", true
	case 'ĸ':
		return "k", true
	case 'ʟ':
		return "l", true
	case 'ʍ':
		return "m", true
	case 'ɴ':
		return "n", true
	case 'ᴘ':
		return "p", true
	case 'ꞯ':
		return "q", true
	case 'ʀ':
		return "r", true
	case 'ᴛ':
		return "t", true
	}
	return "", false
}
