package sqlstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/blog"
)

// BenchmarkBackup measures Backup, copy and checks, and Restore of a
// database of 300,000 posts of 320 bytes by 100 authors (some 120 MiB).
// The figures are in docs/benchmarks.md.
func BenchmarkBackup(b *testing.B) {
	ctx := context.Background()
	s, _ := sqliteStore(b)
	var users []blog.User
	for i := range 100 {
		users = append(users, blog.User{Username: fmt.Sprintf("author%d", i), Email: fmt.Sprintf("author%d@example.com", i), PasswordHash: "$argon2id$h"})
	}
	if _, err := s.InsertUsers(ctx, users, nil); err != nil {
		b.Fatal(err)
	}
	content := strings.Repeat("Ordinary prose of a few words. ", 11)[:320]
	const posts, batch = 300_000, 10_000
	for i := 0; i < posts; i += batch {
		var ps []blog.Post
		for j := i; j < i+batch; j++ {
			ps = append(ps, blog.Post{ID: int64(j + 1), Title: fmt.Sprintf("Post %d", j), Content: content,
				AuthorID: users[j%len(users)].ID, DatePosted: time.Unix(int64(j), 0)})
		}
		if _, err := s.InsertPosts(ctx, ps); err != nil {
			b.Fatal(err)
		}
	}
	dir := b.TempDir()
	var size int64
	b.Run("backup", func(b *testing.B) {
		n := 0
		for b.Loop() {
			n++
			info, err := s.Backup(ctx, filepath.Join(dir, fmt.Sprintf("backup-%d.db", n)))
			if err != nil {
				b.Fatal(err)
			}
			size = info.Size
		}
		b.ReportMetric(float64(size)/(1<<20), "MiB")
	})
	b.Run("restore", func(b *testing.B) {
		url := "sqlite:///" + filepath.Join(b.TempDir(), "quill.db")
		at := time.Now()
		// A second later each time: the replaced database needs a new name.
		now := func() time.Time { at = at.Add(time.Second); return at }
		for b.Loop() {
			if _, err := Restore(ctx, url, filepath.Join(dir, "backup-1.db"), now); err != nil {
				b.Fatal(err)
			}
			matches, _ := filepath.Glob(strings.TrimPrefix(url, "sqlite:///") + ".before-restore-*")
			for _, m := range matches {
				os.Remove(m)
			}
		}
	})
}
