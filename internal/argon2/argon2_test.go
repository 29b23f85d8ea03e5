package argon2

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	xargon2 "golang.org/x/crypto/argon2"
)

// shape is one set of inputs to a key derivation.
type shape struct {
	password, salt       []byte
	time, memory, keyLen uint32
	threads              uint8
}

func (s shape) String() string {
	return fmt.Sprintf("pw=%d salt=%d t=%d m=%d p=%d len=%d",
		len(s.password), len(s.salt), s.time, s.memory, s.threads, s.keyLen)
}

// want is the key golang.org/x/crypto/argon2 derives.
func (s shape) want(id bool) []byte {
	if id {
		return xargon2.IDKey(s.password, s.salt, s.time, s.memory, s.threads, s.keyLen)
	}
	return xargon2.Key(s.password, s.salt, s.time, s.memory, s.threads, s.keyLen)
}

func (s shape) got(m *Memory, id bool) []byte {
	if id {
		return m.IDKey(s.password, s.salt, s.time, s.memory, s.threads, s.keyLen)
	}
	return m.Key(s.password, s.salt, s.time, s.memory, s.threads, s.keyLen)
}

func randomShape(r *rand.Rand) shape {
	bytesOf := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	return shape{
		password: bytesOf(r.IntN(80)),
		salt:     bytesOf(r.IntN(40)),
		time:     1 + r.Uint32N(4),
		// Below 8 KiB per lane the memory is raised to it; odd sizes are
		// rounded down to whole segments.
		memory:  r.Uint32N(600),
		threads: uint8(1 + r.IntN(4)),
		keyLen:  1 + r.Uint32N(80),
	}
}

// scribble fills m with bytes that are not zero, as a previous
// computation leaves it.
func scribble(m *Memory, r *rand.Rand) {
	for i := range m.blocks {
		for j := range m.blocks[i] {
			m.blocks[i][j] = r.Uint64()
		}
	}
}

// TestSameKeys checks that a reused, dirty Memory, a nil one and one too
// small all derive golang.org/x/crypto/argon2's keys.
func TestSameKeys(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	shapes := []shape{
		// The parameters quill hashes with by default, and an imported
		// pwdlib hash's shape.
		{password: []byte("correct horse battery staple"), salt: []byte("0123456789abcdef"), time: 2, memory: 19456, threads: 1, keyLen: 32},
		{password: []byte("pässwörd"), salt: []byte("saltsaltsaltsalt"), time: 3, memory: 4096, threads: 4, keyLen: 32},
		// The smallest memory, raised to 8 KiB per lane.
		{password: nil, salt: nil, time: 1, memory: 0, threads: 3, keyLen: 4},
	}
	for range 60 {
		shapes = append(shapes, randomShape(r))
	}
	reused := NewMemory(19456)
	defer reused.Free()
	for _, s := range shapes {
		for _, id := range []bool{true, false} {
			want := s.want(id)
			scribble(reused, r)
			if got := s.got(reused, id); !bytes.Equal(got, want) {
				t.Fatalf("%v id=%v in reused memory: key %x, x/crypto %x", s, id, got, want)
			}
			if got := s.got(nil, id); !bytes.Equal(got, want) {
				t.Fatalf("%v id=%v with nil memory: key %x, x/crypto %x", s, id, got, want)
			}
			small := NewMemory(7)
			scribble(small, r)
			if got := s.got(small, id); !bytes.Equal(got, want) {
				t.Fatalf("%v id=%v with too little memory: key %x, x/crypto %x", s, id, got, want)
			}
			small.Free()
		}
	}
}

func FuzzSameKeys(f *testing.F) {
	f.Add([]byte("password"), []byte("somesalt"), uint8(2), uint16(64), uint8(1), uint8(32), true, uint64(0))
	f.Add([]byte(""), []byte(""), uint8(1), uint16(0), uint8(4), uint8(1), false, uint64(7))
	f.Fuzz(func(t *testing.T, password, salt []byte, time uint8, memory uint16, threads, keyLen uint8, id bool, seed uint64) {
		s := shape{
			password: password,
			salt:     salt,
			time:     1 + uint32(time%4),
			memory:   uint32(memory % 1024),
			threads:  1 + threads%8,
			keyLen:   1 + uint32(keyLen),
		}
		m := NewMemory(uint32(seed % 1100))
		defer m.Free()
		scribble(m, rand.New(rand.NewPCG(seed, seed)))
		if got, want := s.got(m, id), s.want(id); !bytes.Equal(got, want) {
			t.Fatalf("%v id=%v memory=%d: key %x, x/crypto %x", s, id, m.KiB(), got, want)
		}
	})
}

// upstreamArgon2 is the SHA-256 of the argon2.go of golang.org/x/crypto
// that this package's argon2.go was made from (v0.59.0).
const upstreamArgon2 = "3675c69f8a2efbd5ae4d35d00f5679113b50ec32f3fe6482c669ef7b401a38d5"

// TestUpstreamFiles checks that every file of this package but argon2.go
// is golang.org/x/crypto/argon2's of the version go.mod names, and that its
// argon2.go is still the one this package's was made from, so that a fix
// there is not missed here. When x/crypto is upgraded and this fails, copy
// the other files again, bring the change to argon2.go by hand, and record
// the new hash above.
func TestUpstreamFiles(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "golang.org/x/crypto").Output()
	if err != nil {
		t.Fatalf("go list -m golang.org/x/crypto: %v", err)
	}
	upstream := filepath.Join(strings.TrimSpace(string(out)), "argon2")
	names, err := filepath.Glob(filepath.Join(upstream, "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range names {
		name := filepath.Base(path)
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if name == "argon2.go" {
			if sum := sha256.Sum256(want); hex.EncodeToString(sum[:]) != upstreamArgon2 {
				t.Errorf("golang.org/x/crypto/argon2's argon2.go has changed since this package's was made from it: port the change")
			}
			continue
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Errorf("%s of golang.org/x/crypto/argon2 is missing here: %v", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from golang.org/x/crypto/argon2's", name)
		}
	}
	if len(names) == 0 {
		t.Fatalf("no files in %s", upstream)
	}
}
