package deploy

import (
	"bytes"
	"crypto/rand"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/quillproc"
)

// imageUser is the user the image runs quill as (deploy/Containerfile).
const imageUser = "65532:65532"

// TestContainer builds the image with deploy/build-image.sh and runs it
// with podman as a user would: on a named volume, with the port
// published. It checks that the image holds a static quill, the CA
// certificates and nothing else; that quill runs as the unprivileged user
// with no capabilities; that it answers /health, to the host and to the
// image's HEALTHCHECK (quill health); that the generated key and the
// database are on the volume, private to that user; and that after a
// stop, which quill ends with exit status 0, and a start, the account and
// its token still work.
func TestContainer(t *testing.T) {
	pm := newPodman(t)
	if testing.Short() {
		t.Skip("builds quill and a container image; skipped in -short mode")
	}
	suffix := randomSuffix(t)
	image := "localhost/quill-deploy-test-" + suffix + ":latest"
	name := "quill-deploy-test-" + suffix
	volume := name + "-data"

	build := exec.Command(filepath.Join(root(t), "deploy", "build-image.sh"), image)
	build.Env = append(os.Environ(), "CONTAINER_TOOL=podman")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("deploy/build-image.sh: %v\n%s", err, out)
	}
	t.Cleanup(func() { pm.run(t, "rmi", "--force", image) })

	t.Run("image", func(t *testing.T) { checkImage(t, pm, image) })

	pm.mustRun(t, "volume", "create", volume)
	t.Cleanup(func() { pm.run(t, "volume", "rm", "--force", volume) })
	hostAddr, err := quillproc.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + hostAddr
	pm.mustRun(t, append([]string{"run", "--detach", "--name", name,
		"--volume", volume + ":/data", "--publish", hostAddr + ":8000",
		"--env", "PUBLIC_URL=" + base}, append(pm.runFlags, image)...)...)
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := pm.run(t, "logs", name)
			t.Logf("the container's log:\n%s", out)
		}
		pm.run(t, "rm", "--force", "--time", "10", name)
	})
	waitHealthy(t, pm, name, base)

	t.Run("process", func(t *testing.T) {
		pid := strings.TrimSpace(pm.mustRun(t, "inspect", "--format", "{{.State.Pid}}", name))
		status, err := os.ReadFile("/proc/" + pid + "/status")
		if err != nil {
			t.Fatal(err)
		}
		uid, gid := strings.Split(imageUser, ":")[0], strings.Split(imageUser, ":")[1]
		for _, want := range []string{
			"Uid:\t" + uid + "\t" + uid + "\t" + uid + "\t" + uid + "\n",
			"Gid:\t" + gid + "\t" + gid + "\t" + gid + "\t" + gid + "\n",
			"CapEff:\t0000000000000000\n",
		} {
			if !bytes.Contains(status, []byte(want)) {
				t.Errorf("quill's /proc/%s/status has no line %q:\n%s", pid, strings.TrimSpace(want), status)
			}
		}
	})

	t.Run("health check", func(t *testing.T) {
		if out, err := pm.run(t, "exec", name, "/usr/local/bin/quill", "health"); err != nil || !strings.Contains(out, "healthy") {
			t.Errorf("podman exec %s quill health: %v\n%s", name, err, out)
		}
		if out, err := pm.run(t, "healthcheck", "run", name); err != nil {
			t.Errorf("podman healthcheck run %s (the image's HEALTHCHECK): %v\n%s", name, err, out)
		}
	})

	// An account and a token, to find again after a restart.
	body, _ := json.Marshal(map[string]string{"username": "alice", "email": "alice@example.com", "password": "correct horse battery staple"})
	client := &http.Client{Timeout: 30 * time.Second}
	if res := do(t, client, http.MethodPost, base+"/api/users", bytes.NewReader(body), http.Header{"Content-Type": {"application/json"}}); res.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/users = %s, want 201\n%s", res.Status, res.body)
	}
	res := do(t, client, http.MethodPost, base+"/api/users/token", strings.NewReader("username=alice&password=correct+horse+battery+staple"),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	var token struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(res.body, &token); err != nil || res.StatusCode != http.StatusOK || token.AccessToken == "" {
		t.Fatalf("POST /api/users/token = %s %s: %v", res.Status, res.body, err)
	}

	t.Run("volume", func(t *testing.T) {
		dir := strings.TrimSpace(pm.mustRun(t, "volume", "inspect", "--format", "{{.Mountpoint}}", volume))
		env, err := os.ReadFile(filepath.Join(dir, ".env"))
		if err != nil || !bytes.HasPrefix(env, []byte("SECRET_KEY=")) {
			t.Errorf("the volume's .env = %q, %v; want the generated SECRET_KEY", env, err)
		}
		for _, file := range []string{".env", "blog.db"} {
			fi, err := os.Stat(filepath.Join(dir, file))
			if err != nil {
				t.Errorf("the volume has no %s: %v", file, err)
				continue
			}
			st := fi.Sys().(*syscall.Stat_t)
			if owner := fmt.Sprintf("%d:%d", st.Uid, st.Gid); owner != imageUser || fi.Mode().Perm() != 0o600 {
				t.Errorf("the volume's %s belongs to %s with mode %v, want %s and -rw-------", file, owner, fi.Mode().Perm(), imageUser)
			}
		}
	})

	pm.mustRun(t, "stop", "--time", "30", name)
	if code := strings.TrimSpace(pm.mustRun(t, "inspect", "--format", "{{.State.ExitCode}}", name)); code != "0" {
		t.Errorf("quill exited with status %s when the container was stopped, want 0", code)
	}
	pm.mustRun(t, "start", name)
	waitHealthy(t, pm, name, base)
	res = do(t, client, http.MethodGet, base+"/api/users/me", nil, http.Header{"Authorization": {"Bearer " + token.AccessToken}})
	if res.StatusCode != http.StatusOK || !bytes.Contains(res.body, []byte(`"alice"`)) {
		t.Errorf("after a restart, GET /api/users/me with the earlier token = %s %s, want 200 and alice: the key or the database was lost", res.Status, res.body)
	}
	logs, _ := pm.run(t, "logs", name)
	if n := strings.Count(logs, "generated a new SECRET_KEY"); n != 1 {
		t.Errorf("quill generated a SECRET_KEY %d times in two starts, want once", n)
	}
}

// checkImage checks the image's settings, and that its files are the
// static quill, the CA certificates, /data and /tmp, and nothing else.
func checkImage(t *testing.T, pm *podman, image string) {
	var inspect []struct {
		Config struct {
			User         string
			WorkingDir   string
			Env          []string
			ExposedPorts map[string]any
		}
		Healthcheck *struct{ Test []string }
	}
	if err := json.Unmarshal([]byte(pm.mustRun(t, "image", "inspect", image)), &inspect); err != nil || len(inspect) != 1 {
		t.Fatalf("podman image inspect: %d images, %v", len(inspect), err)
	}
	cfg, health := inspect[0].Config, inspect[0].Healthcheck
	if cfg.User != imageUser || cfg.WorkingDir != "/data" || !slices.Contains(cfg.Env, "DATABASE_URL=sqlite:////data/blog.db") {
		t.Errorf("image config: user %q, working directory %q, environment %q; want %s, /data and DATABASE_URL=sqlite:////data/blog.db",
			cfg.User, cfg.WorkingDir, cfg.Env, imageUser)
	}
	if _, ok := cfg.ExposedPorts["8000/tcp"]; !ok {
		t.Errorf("image exposes %v, want 8000/tcp", cfg.ExposedPorts)
	}
	if health == nil || !slices.Equal(health.Test, []string{"CMD", "/usr/local/bin/quill", "health"}) {
		t.Errorf("image health check = %+v, want quill health", health)
	}

	dir := strings.TrimSpace(pm.mustRun(t, "image", "mount", image))
	defer pm.run(t, "image", "unmount", image)
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			files = append(files, "/"+rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/etc/ssl/certs/ca-certificates.crt", "/usr/local/bin/quill"}; !slices.Equal(files, want) {
		t.Errorf("the image's files are %q, want %q", files, want)
	}
	bin, err := elf.Open(filepath.Join(dir, "usr", "local", "bin", "quill"))
	if err != nil {
		t.Fatal(err)
	}
	defer bin.Close()
	for _, p := range bin.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("the image's quill is linked dynamically (it has %v), want a static binary", p.Type)
		}
	}
	// /data belongs to quill's user, so a new volume there does too; /tmp
	// is everyone's, as usual (sticky, mode 1777).
	for _, d := range []struct {
		path, owner string
		mode        fs.FileMode
	}{
		{"data", imageUser, fs.ModeDir | 0o700},
		{"tmp", "0:0", fs.ModeDir | fs.ModeSticky | 0o777},
	} {
		fi, err := os.Stat(filepath.Join(dir, d.path))
		if err != nil {
			t.Errorf("the image has no /%s: %v", d.path, err)
			continue
		}
		st := fi.Sys().(*syscall.Stat_t)
		if owner := fmt.Sprintf("%d:%d", st.Uid, st.Gid); owner != d.owner || fi.Mode() != d.mode {
			t.Errorf("the image's /%s belongs to %s with mode %v, want %s and %v", d.path, owner, fi.Mode(), d.owner, d.mode)
		}
	}
}

// podman runs podman with the flags this machine needs.
type podman struct {
	path string
	// global are flags for every podman command: the runtime.
	global []string
	// runFlags are flags for podman run.
	runFlags []string
}

// newPodman finds podman, or skips or fails t as tool does.
//
// It runs containers with runc where runc is installed: crun refuses a
// machine whose cgroups are a hybrid of versions 1 and 2 (crun: cgroups in
// hybrid mode not supported), and runc works on both. It sets the
// container's limits on open files and processes below the machine's:
// podman otherwise raises them (to 1048576 open files), which needs
// CAP_SYS_RESOURCE, and root in a sandbox or VM may lack it (setrlimit
// RLIMIT_NOFILE: Operation not permitted).
func newPodman(t *testing.T) *podman {
	t.Helper()
	pm := &podman{path: tool(t, "podman", "podman")}
	if os.Geteuid() != 0 {
		// Rootless podman has another storage, network and image mounts.
		if os.Getenv(requiredEnv) == "required" {
			t.Fatalf("%s=required, but the podman tests need root", requiredEnv)
		}
		t.Skip("the podman tests run podman as root; run them as root (CI does)")
	}
	if runc, err := exec.LookPath("runc"); err == nil {
		pm.global = []string{"--runtime", runc}
	}
	pm.runFlags = []string{"--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"}
	return pm
}

// run runs podman with args and returns its combined output.
func (pm *podman) run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(pm.path, append(slices.Clone(pm.global), args...)...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return out.String(), err
}

// mustRun runs podman with args and returns its standard output, failing
// t if it fails.
func (pm *podman) mustRun(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(pm.path, append(slices.Clone(pm.global), args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("podman %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// waitHealthy waits until base/health answers 200, for a minute at most,
// failing t if the container stops meanwhile.
func waitHealthy(t *testing.T, pm *podman, name, base string) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	var last string
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if state := strings.TrimSpace(pm.mustRun(t, "inspect", "--format", "{{.State.Status}}", name)); state != "running" {
			out, _ := pm.run(t, "logs", name)
			t.Fatalf("the container is %s, want running; its log:\n%s", state, out)
		}
		res, err := client.Get(base + "/health")
		if err != nil {
			last = err.Error()
			continue
		}
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			return
		}
		last = res.Status
	}
	t.Fatalf("GET %s/health did not answer 200 within a minute (last: %s)", base, last)
}

// randomSuffix names this run's image, container and volume, so that runs
// on one machine do not meet.
func randomSuffix(t *testing.T) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
