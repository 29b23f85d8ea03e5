package deploy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/quillproc"
)

// systemdBinary is systemd itself, which the test boots in a container.
const systemdBinary = "/lib/systemd/systemd"

// TestSystemdService runs quill.service for real: it boots systemd in a
// container whose root is this machine's own, behind an overlay that
// drops every change (podman --rootfs /:O), with quill.service,
// quill-https.conf and quill-admin as shipped and the quill binary where
// the unit expects it. It shows that quill starts in the unit's sandbox
// (a dynamic user, no capabilities, no new privileges, a system call
// filter, a read-only root), keeps the generated key and the database in
// /var/lib/quill, private to that user; that quill-admin creates an
// account the service then logs in; that the key and the account survive
// a restart; that quill-admin backup and restore and scheduled backups in
// a state directory of their own work under the unit; that quill stops
// with status 0; and that port 80 is refused without the drop-in and
// works with it.
func TestSystemdService(t *testing.T) {
	pm := newPodman(t)
	for _, p := range []struct{ path, pkg string }{{systemdBinary, "systemd"}, {"/usr/bin/dbus-daemon", "dbus"}} {
		if _, err := os.Stat(p.path); err != nil {
			tool(t, p.path, p.pkg) // skips or fails as for a missing command
		}
	}
	if testing.Short() {
		t.Skip("builds quill and boots systemd in a container; skipped in -short mode")
	}
	hostAddr, err := quillproc.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + hostAddr
	name := "quill-systemd-test-" + randomSuffix(t)
	deployDir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	// systemd starts only dbus.socket and what it needs (the system's
	// early units, journald): quill-admin's systemd-run --wait needs the
	// bus; quill.service is started by the test.
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := pm.run(t, "exec", name, "journalctl", "--no-pager", "-u", "quill", "-n", "60")
			t.Logf("quill.service's journal:\n%s", out)
		}
		pm.run(t, "rm", "--ignore", "--force", "--time", "5", name)
	})
	// --rootfs makes the first argument the root, not an image, and what
	// follows it the command: the other flags come first.
	// systemd as a machine's init has every capability. In the container
	// it needs CAP_SYS_ADMIN to build a sandbox outside a user namespace
	// of the service's own (quill-https.conf turns PrivateUsers off), and
	// CAP_SYS_PTRACE to see the service's /proc entry through
	// ProtectProc=invisible while it maps the service's user namespace.
	args := append([]string{"run", "--detach", "--name", name, "--systemd=always", "--cap-add=SYS_ADMIN,SYS_PTRACE",
		"--tmpfs", "/tmp:rw,notmpcopyup", "--tmpfs", "/run:rw,notmpcopyup",
		"--publish", hostAddr + ":8000",
		"--volume", quillBinary(t) + ":/usr/local/bin/quill:ro",
		"--volume", filepath.Join(deployDir, "quill.service") + ":/etc/systemd/system/quill.service:ro",
		"--volume", filepath.Join(deployDir, "quill-admin") + ":/usr/local/sbin/quill-admin:ro",
	}, pm.runFlags...)
	pm.mustRun(t, append(args, "--rootfs", "/:O", systemdBinary, "--unit=dbus.socket")...)
	sh := func(t *testing.T, stdin, script string) (string, error) {
		t.Helper()
		cmd := exec.Command(pm.path, append(append([]string{}, pm.global...), "exec", "--interactive", name, "sh", "-c", script)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	mustSh := func(t *testing.T, stdin, script string) string {
		t.Helper()
		out, err := sh(t, stdin, script)
		if err != nil {
			t.Fatalf("in the container: %s: %v\n%s", script, err, out)
		}
		return out
	}
	eventually(t, "systemd to be up", func() (bool, string) {
		out, _ := sh(t, "", "systemctl is-system-running")
		out = strings.TrimSpace(out)
		return out == "running" || out == "degraded", out
	})
	mustSh(t, "ADDR=0.0.0.0:8000\n", "mkdir -p /etc/quill && umask 077 && cat > /etc/quill/quill.env")
	client := &http.Client{Timeout: 30 * time.Second}
	startQuill := func(t *testing.T) {
		t.Helper()
		mustSh(t, "", "systemctl start quill")
		eventually(t, "quill.service to answer /health", func() (bool, string) {
			out, err := sh(t, "", "systemctl is-active quill; quill health")
			return err == nil, out
		})
	}
	startQuill(t)

	t.Run("sandbox", func(t *testing.T) {
		pid := strings.TrimSpace(mustSh(t, "", "systemctl show --property=MainPID --value quill"))
		status := mustSh(t, "", "cat /proc/"+pid+"/status")
		uid := regexp.MustCompile(`(?m)^Uid:\t(\d+)\t`).FindStringSubmatch(status)
		if uid == nil || uid[1] == "0" {
			t.Errorf("quill runs as %v, want a dynamic user\n%s", uid, status)
		}
		for _, want := range []string{"CapEff:\t0000000000000000", "CapBnd:\t0000000000000000", "NoNewPrivs:\t1", "Seccomp:\t2"} {
			if !strings.Contains(status, want+"\n") {
				t.Errorf("quill's /proc/PID/status has no line %q:\n%s", want, status)
			}
		}
		if root := mustSh(t, "", `awk '$5 == "/" { print $6 }' /proc/`+pid+`/mountinfo`); !strings.HasPrefix(root, "ro,") {
			t.Errorf("quill's / is mounted %q, want read-only", root)
		}
		if uid == nil {
			return
		}
		files := mustSh(t, "", "stat -c '%n %u %a' /var/lib/private/quill /var/lib/private/quill/.env /var/lib/private/quill/blog.db")
		want := fmt.Sprintf("/var/lib/private/quill %[1]s 700\n/var/lib/private/quill/.env %[1]s 600\n/var/lib/private/quill/blog.db %[1]s 600\n", uid[1])
		if files != want {
			t.Errorf("the state directory (name, owner, mode):\n%swant\n%s", files, want)
		}
		if env := mustSh(t, "", "cat /var/lib/quill/.env"); !strings.HasPrefix(env, "SECRET_KEY=") {
			t.Errorf("/var/lib/quill/.env = %q, want the generated SECRET_KEY", env)
		}
	})

	// An account made with quill-admin, logged in through the service.
	const password = "correct horse battery staple"
	if out := mustSh(t, password+"\n", "quill-admin user create --username alice --email alice@example.com"); !strings.Contains(out, `created user 1 "alice"`) {
		t.Fatalf("quill-admin user create printed %q", out)
	}
	res := do(t, client, http.MethodPost, base+"/api/users/token", strings.NewReader("username=alice&password=correct+horse+battery+staple"),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	var token struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(res.body, &token); err != nil || res.StatusCode != http.StatusOK || token.AccessToken == "" {
		t.Fatalf("POST /api/users/token for the account quill-admin made = %s %s: %v", res.Status, res.body, err)
	}
	if out, err := sh(t, "", "quill-admin user create --username alice --email alice@example.com"); err == nil || !strings.Contains(out, "already registered") {
		t.Errorf("quill-admin user create of a taken name: %v, %q; want the failure passed on", err, out)
	}

	t.Run("restart", func(t *testing.T) {
		mustSh(t, "", "systemctl restart quill")
		startQuill(t)
		res := do(t, client, http.MethodGet, base+"/api/users/me", nil, http.Header{"Authorization": {"Bearer " + token.AccessToken}})
		if res.StatusCode != http.StatusOK {
			t.Errorf("after a restart, GET /api/users/me with the earlier token = %s %s, want 200", res.Status, res.body)
		}
		if n := strings.Count(mustSh(t, "", "journalctl --no-pager -o cat -u quill"), "generated a new SECRET_KEY"); n != 1 {
			t.Errorf("quill generated a SECRET_KEY %d times, want once", n)
		}
	})

	// Backups as docs/deployment.md runs them under the unit: quill-admin
	// backup and restore with files in /var/lib/quill, and scheduled
	// backups in a state directory of their own given by a drop-in.
	t.Run("backups", func(t *testing.T) {
		if out := mustSh(t, "", "quill-admin backup /var/lib/quill/manual.db"); !strings.Contains(out, "wrote /var/lib/quill/manual.db: ") || !strings.Contains(out, "1 user,") {
			t.Errorf("quill-admin backup printed %q", out)
		}
		dropIn := "[Service]\nStateDirectory=quill-backups\nEnvironment=BACKUP_DIR=/var/lib/quill-backups\nEnvironment=BACKUP_INTERVAL=1s\nEnvironment=BACKUP_KEEP=2\n"
		mustSh(t, dropIn, "mkdir -p /etc/systemd/system/quill.service.d && cat > /etc/systemd/system/quill.service.d/backups.conf && systemctl daemon-reload")
		mustSh(t, "", "systemctl restart quill")
		startQuill(t)
		eventually(t, "scheduled backups in /var/lib/quill-backups, old ones deleted", func() (bool, string) {
			out, _ := sh(t, "", "journalctl --no-pager -o cat -u quill | grep -e 'backup written' -e 'old backup deleted' -e 'backup failed'")
			return strings.Contains(out, `old backup deleted" path=/var/lib/quill-backups/quill-backup-`), out
		})
		mustSh(t, "", "systemctl stop quill && rm /etc/systemd/system/quill.service.d/backups.conf && systemctl daemon-reload")
		if out := mustSh(t, "", "ls /var/lib/quill-backups"); strings.Count(out, "quill-backup-") != 2 {
			t.Errorf("/var/lib/quill-backups holds %q, want the 2 newest backups", out)
		}
		if out := mustSh(t, "", "quill-admin restore /var/lib/quill/manual.db"); !strings.Contains(out, "restored /var/lib/quill/manual.db into /var/lib/quill/blog.db: ") {
			t.Errorf("quill-admin restore printed %q", out)
		}
		startQuill(t)
		res := do(t, client, http.MethodPost, base+"/api/users/token", strings.NewReader("username=alice&password=correct+horse+battery+staple"),
			http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
		if res.StatusCode != http.StatusOK {
			t.Errorf("log in after quill-admin restore = %s %s, want 200", res.Status, res.body)
		}
	})

	t.Run("stop", func(t *testing.T) {
		mustSh(t, "", "systemctl stop quill")
		if got := mustSh(t, "", "systemctl show --property=Result --property=ExecMainStatus quill"); got != "Result=success\nExecMainStatus=0\n" {
			t.Errorf("after systemctl stop quill:\n%swant Result=success and ExecMainStatus=0", got)
		}
	})

	t.Run("port 80", func(t *testing.T) {
		mustSh(t, "ADDR=0.0.0.0:80\n", "umask 077 && cat > /etc/quill/quill.env")
		mustSh(t, "", "systemctl start quill")
		eventually(t, "quill to be refused port 80", func() (bool, string) {
			out, _ := sh(t, "", "journalctl --no-pager -o cat -u quill")
			return strings.Contains(out, "cannot listen on 0.0.0.0:80: bind: permission denied"), out
		})
		https, err := os.ReadFile("quill-https.conf")
		if err != nil {
			t.Fatal(err)
		}
		mustSh(t, string(https), "systemctl stop quill && mkdir -p /etc/systemd/system/quill.service.d && cat > /etc/systemd/system/quill.service.d/https.conf && systemctl daemon-reload")
		mustSh(t, "", "systemctl start quill")
		eventually(t, "quill.service with quill-https.conf to answer on port 80", func() (bool, string) {
			out, err := sh(t, "", "quill health --url http://127.0.0.1:80/health")
			return err == nil, out
		})
		pid := strings.TrimSpace(mustSh(t, "", "systemctl show --property=MainPID --value quill"))
		// CAP_NET_BIND_SERVICE is capability 10, and the only one.
		if status := mustSh(t, "", "cat /proc/"+pid+"/status"); !strings.Contains(status, "CapEff:\t0000000000000400\n") || !strings.Contains(status, "CapBnd:\t0000000000000400\n") {
			t.Errorf("with quill-https.conf, quill's capabilities are not CAP_NET_BIND_SERVICE alone:\n%s", status)
		}
	})
}

// eventually calls check until it reports true, for a minute at most,
// failing t with what check last said if it never does.
func eventually(t *testing.T, what string, check func() (bool, string)) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var ok bool
		if ok, last = check(); ok {
			return
		}
	}
	t.Fatalf("waited a minute for %s; last:\n%s", what, last)
}
