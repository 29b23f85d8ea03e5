package deploy

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// unitBinary is where quill.service expects the quill binary, as
// docs/deployment.md installs it.
const unitBinary = "/usr/local/bin/quill"

// worstExposure is the highest overall exposure systemd-analyze security
// may give the unit: below 5.0 is "OK" or better on its scale.
const worstExposure = 4.9

var exposureRE = regexp.MustCompile(`Overall exposure level for quill\.service: (\d+\.\d) (\S+)`)

// TestSystemdUnit checks quill.service, alone and with the drop-in
// quill-https.conf, with systemd-analyze: verify must find nothing to say,
// and the sandbox's exposure score must be "OK" or better. Both work on a
// unit file without systemd running.
func TestSystemdUnit(t *testing.T) {
	analyze := tool(t, "systemd-analyze", "systemd")
	unit, err := os.ReadFile("quill.service")
	if err != nil {
		t.Fatal(err)
	}
	https, err := os.ReadFile("quill-https.conf")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		dropIn []byte // quill.service.d/https.conf, if any
	}{
		{name: "quill.service"},
		{name: "with quill-https.conf", dropIn: https},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := installUnit(t, unit, tt.dropIn)
			if out, err := verify(analyze, path); err != nil || out != "" {
				t.Errorf("systemd-analyze verify: %v\n%s", err, out)
			}
			score, level, out := exposure(t, analyze, path)
			t.Logf("exposure: %.1f %s", score, level)
			if score > worstExposure || !slices.Contains([]string{"PERFECT", "SAFE", "OK"}, level) {
				t.Errorf("systemd-analyze security: overall exposure %.1f %s, want %.1f (OK) or better\n%s", score, level, worstExposure, out)
			}
		})
	}
	// The checks above pass only because the unit is right: a unit with a
	// mistake, or without its sandbox, fails them.
	t.Run("a mistake is reported", func(t *testing.T) {
		bad := bytes.Replace(unit, []byte("ProtectSystem=strict"), []byte("ProtectSystem=strickt"), 1)
		if out, err := verify(analyze, installUnit(t, bad, []byte("[Service]\nAmbientCapability=CAP_NET_BIND_SERVICE\n"))); err == nil && out == "" {
			t.Error("systemd-analyze verify said nothing of ProtectSystem=strickt and AmbientCapability=")
		}
	})
	t.Run("no sandbox is exposed", func(t *testing.T) {
		var bare []string
		for line := range strings.SplitSeq(string(unit), "\n") {
			if k, _, ok := strings.Cut(line, "="); !ok || slices.Contains([]string{"Type", "ExecStart", "Restart", "RestartSec", "TimeoutStopSec", "Environment", "EnvironmentFile", "WorkingDirectory", "Description", "After", "Wants", "WantedBy"}, k) {
				bare = append(bare, line)
			}
		}
		bareUnit := []byte(strings.ReplaceAll(strings.Join(bare, "\n"), "WorkingDirectory=/var/lib/quill", "WorkingDirectory=/"))
		if score, level, out := exposure(t, analyze, installUnit(t, bareUnit, nil)); score <= worstExposure {
			t.Errorf("systemd-analyze security gave the unit without its sandbox %.1f %s, want worse than %.1f\n%s", score, level, worstExposure, out)
		}
	})
}

// installUnit writes unit as quill.service in a new folder, with dropIn as
// quill.service.d/https.conf if it is not nil, and returns the unit's
// path. systemd-analyze verify checks that ExecStart names an executable
// file, and this machine need not have quill where the unit expects it:
// ExecStart names the test binary instead, the one change made.
func installUnit(t *testing.T, unit, dropIn []byte) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(unit, []byte("ExecStart="+unitBinary+" ")); n != 1 {
		t.Fatalf("quill.service has %d ExecStart=%s lines, want 1", n, unitBinary)
	}
	unit = bytes.Replace(unit, []byte("ExecStart="+unitBinary+" "), []byte("ExecStart="+self+" "), 1)
	dir := t.TempDir()
	path := filepath.Join(dir, "quill.service")
	if err := os.WriteFile(path, unit, 0o644); err != nil {
		t.Fatal(err)
	}
	if dropIn != nil {
		if err := os.Mkdir(path+".d", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(path+".d", "https.conf"), dropIn, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// verify runs systemd-analyze verify on the unit at path and returns what
// it printed: nothing when the unit is right. It reports a problem it
// ignores (an unknown setting, a bad value) on standard error and still
// exits 0.
func verify(analyze, path string) (string, error) {
	out, err := exec.Command(analyze, "verify", "--man=no", path).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// exposure runs systemd-analyze security --offline on the unit at path
// and returns its overall exposure score and level, and its report.
func exposure(t *testing.T, analyze, path string) (float64, string, string) {
	t.Helper()
	cmd := exec.Command(analyze, "security", "--offline=true", "--no-pager", path)
	cmd.Env = append(os.Environ(), "SYSTEMD_COLORS=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security --offline=true: %v\n%s", err, out)
	}
	m := exposureRE.FindSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security printed no overall exposure level:\n%s", out)
	}
	score, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return score, string(m[2]), string(out)
}
