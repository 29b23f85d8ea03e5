//go:build unix

package sqlstore

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestRestoreKeepsOwner checks that a restore run as root gives the new
// file the owner of the database it replaces, the user quill runs as.
func TestRestoreKeepsOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root can give a file to another user")
	}
	t.Parallel()
	backup, _ := backupOf(t)
	path := filepath.Join(t.TempDir(), "quill.db")
	data, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	const uid, gid = 54321, 54322
	if err := os.Chown(path, uid, gid); err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(context.Background(), "sqlite:///"+path, backup, nil); err != nil {
		t.Fatalf("Restore() = %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); !ok || st.Uid != uid || st.Gid != gid {
		t.Errorf("the restored file belongs to %+v, want %d:%d like the one it replaced", fi.Sys(), uid, gid)
	}
}
