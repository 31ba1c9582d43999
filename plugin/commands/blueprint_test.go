package commands_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cloudify-chaos/chaosops/plugin/internal/chaosbin"
)

// repoRoot is the repository this test file is in.
func repoRoot() string {
	_, file, _, _ := goruntime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

var lintFixtures = filepath.Join(repoRoot(), "plugin", "blueprint", "testdata", "lint")

func TestBlueprintLint(t *testing.T) {
	good := filepath.Join(lintFixtures, "good")
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{"the good fixture bundle passes with the real operations", []string{"blueprint", "lint", good + "/Env", good + "/App"}, 0,
			[]string{"Env/blueprint.yaml: cloudify_dsl_1_4, 2 nodes, 3 workflows, 0 warnings: ok", "App/blueprint.yaml: cloudify_dsl_1_4, 1 node, 4 workflows, 0 warnings: ok"}, nil},
		{"check is the same command", []string{"blueprint", "check", good + "/App"}, 0, []string{"App/blueprint.yaml: cloudify_dsl_1_4, 1 node"}, nil},
		{"an unknown operation lists the registered ones", []string{"blueprint", "lint", filepath.Join(lintFixtures, "unknown-operation")}, 1, nil,
			[]string{`unknown-operation/blueprint.yaml:8: operation cloudify.interfaces.lifecycle.create: "kubernetes.aply" is not an operation of bin/chaosops.sh (did you mean "kubernetes.apply"?`,
				"chaosops.info, chaosops.selftest, grafana.install_dashboards, grafana.uninstall_dashboards, helm.install, helm.uninstall, kubernetes.apply", "blueprint lint: 1 problem in 1 of 1 blueprints"}},
		{"an unknown input lists the inputs the operation reads", []string{"blueprint", "lint", filepath.Join(lintFixtures, "unknown-input")}, 1, nil,
			[]string{`unknown-input/blueprint.yaml:8: operation chaos_actions.run_http_chaos: unknown input "durration" (did you mean "duration"?`, "allowed_namespaces"}},
		{"every blueprint is reported, good and bad", []string{"blueprint", "lint", good + "/App", filepath.Join(lintFixtures, "yaml-syntax")}, 1,
			[]string{"App/blueprint.yaml: cloudify_dsl_1_4"}, []string{"yaml-syntax/blueprint.yaml:3: YAML syntax:", "1 problem in 1 of 2 blueprints"}},
		{"no folder is a usage error", []string{"blueprint", "lint"}, 2, nil, []string{"needs at least one DIR"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := chaosops(t, nil, tc.args...)
			out, errb, code := r.stdout, r.stderr, r.code
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errb)
			}
			for _, want := range tc.stdout {
				if !strings.Contains(out, want) {
					t.Errorf("stdout lacks %q:\n%s", want, out)
				}
			}
			for _, want := range tc.stderr {
				if !strings.Contains(errb, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errb)
				}
			}
		})
	}
}

// TestBundledBlueprintsLint lints the repository's blueprints as make test
// does, so that a change to an operation's inputs that breaks a blueprint
// fails here too.
func TestBundledBlueprintsLint(t *testing.T) {
	mains, _ := filepath.Glob(filepath.Join(repoRoot(), "blueprints", "*", "blueprint.yaml"))
	if len(mains) == 0 {
		t.Skip("no blueprints/*/blueprint.yaml yet")
	}
	args := []string{"blueprint", "lint"}
	for _, m := range mains {
		args = append(args, filepath.Dir(m))
	}
	r := chaosops(t, nil, args...)
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if n := strings.Count(r.stdout, ": ok\n"); n != len(mains) {
		t.Errorf("%d blueprints ok, want %d:\n%s", n, len(mains), r.stdout)
	}
}

// bundle runs scripts/bundle.sh on src into dist with the real executable.
func bundle(t *testing.T, src, dist string) (string, error) {
	t.Helper()
	cmd := exec.Command(filepath.Join(repoRoot(), "scripts", "bundle.sh"))
	cmd.Env = append(os.Environ(), "CHAOSOPS_BIN="+chaosbin.Path(t), "BUNDLE_SRC="+src, "BUNDLE_DIST="+dist)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// entry is one member of an archive, as the test compares it.
type entry struct {
	Name     string
	Mode     int64
	Uid, Gid int
	ModTime  time.Time
	Regular  bool
}

func readArchive(t *testing.T, path string) ([]entry, map[string][]byte) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	tr := tar.NewReader(zr)
	var entries []entry
	content := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		entries = append(entries, entry{Name: h.Name, Mode: h.Mode, Uid: h.Uid, Gid: h.Gid, ModTime: h.ModTime.UTC(), Regular: h.Typeflag == tar.TypeReg})
		if h.Typeflag == tar.TypeReg {
			b, _ := io.ReadAll(tr)
			content[h.Name] = b
		}
	}
	return entries, content
}

func TestBundleScript(t *testing.T) {
	if _, err := exec.LookPath("tar"); err != nil {
		t.Skip("GNU tar is needed by scripts/bundle.sh")
	}
	src := filepath.Join(lintFixtures, "good")
	dist := t.TempDir()
	out, err := bundle(t, src, dist)
	if err != nil {
		t.Fatalf("bundle.sh: %v\n%s", err, out)
	}

	t.Run("one archive per blueprint folder, with the upload command printed", func(t *testing.T) {
		got, _ := filepath.Glob(filepath.Join(dist, "*"))
		want := []string{filepath.Join(dist, "App.tar.gz"), filepath.Join(dist, "Env.tar.gz")}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("dist (-want +got):\n%s", diff)
		}
		for _, name := range []string{"App", "Env"} {
			if want := "cfy blueprint upload " + filepath.Join(dist, name+".tar.gz") + " -b " + name + "\n"; !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("the archive holds one folder: the blueprint, its types, the executable, the launcher and the listed copies", func(t *testing.T) {
		entries, content := readArchive(t, filepath.Join(dist, "App.tar.gz"))
		epoch := time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
		dir := func(name string) entry { return entry{Name: name, Mode: 0o755, ModTime: epoch} }
		file := func(name string, mode int64) entry {
			return entry{Name: name, Mode: mode, ModTime: epoch, Regular: true}
		}
		want := []entry{
			dir("App/"), dir("App/bin/"), file("App/bin/chaosops", 0o755), file("App/bin/chaosops.sh", 0o755),
			file("App/blueprint.yaml", 0o644), dir("App/manifests/"), file("App/manifests/app.yaml", 0o644),
			dir("App/types/"), file("App/types/chaosops.yaml", 0o644),
		}
		if diff := cmp.Diff(want, entries); diff != "" {
			t.Errorf("entries (-want +got):\n%s", diff)
		}
		exe, err := os.ReadFile(chaosbin.Path(t))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(content["App/bin/chaosops"], exe) {
			t.Error("bin/chaosops is not the executable")
		}
		sum := sha256.Sum256(exe)
		if !bytes.Contains(content["App/bin/chaosops.sh"], []byte(hex.EncodeToString(sum[:]))) {
			t.Error("bin/chaosops.sh does not carry the executable's sha256")
		}
		types, _ := os.ReadFile(filepath.Join(src, "types", "chaosops.yaml"))
		if !bytes.Equal(content["App/types/chaosops.yaml"], types) {
			t.Error("types/chaosops.yaml is not a copy of the shared types file")
		}
	})

	t.Run("the unpacked archives lint with nothing added", func(t *testing.T) {
		unpacked := t.TempDir()
		for _, name := range []string{"App", "Env"} {
			if b, err := exec.Command("tar", "-xzf", filepath.Join(dist, name+".tar.gz"), "-C", unpacked).CombinedOutput(); err != nil {
				t.Fatalf("untar %s: %v\n%s", name, err, b)
			}
		}
		r := chaosops(t, nil, "blueprint", "lint", "--archive", filepath.Join(unpacked, "App"), filepath.Join(unpacked, "Env"))
		if r.code != 0 || strings.Count(r.stdout, ": ok\n") != 2 {
			t.Errorf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
	})

	t.Run("a second run writes the same bytes", func(t *testing.T) {
		again := t.TempDir()
		if out, err := bundle(t, src, again); err != nil {
			t.Fatalf("bundle.sh: %v\n%s", err, out)
		}
		for _, name := range []string{"App.tar.gz", "Env.tar.gz"} {
			a, _ := os.ReadFile(filepath.Join(dist, name))
			b, _ := os.ReadFile(filepath.Join(again, name))
			if len(a) == 0 || !bytes.Equal(a, b) {
				t.Errorf("%s differs between two runs (%d and %d bytes)", name, len(a), len(b))
			}
		}
	})

	t.Run("a blueprint that does not lint stops the bundle before anything is written", func(t *testing.T) {
		// Every fixture folder but good/ is broken: bundle them all.
		empty := filepath.Join(t.TempDir(), "dist")
		out, err := bundle(t, lintFixtures, empty)
		if err == nil {
			t.Fatalf("bundle.sh succeeded on broken blueprints:\n%s", out)
		}
		if !strings.Contains(out, "unknown-input/blueprint.yaml:8: ") {
			t.Errorf("output does not name the problem:\n%s", out)
		}
		if _, err := os.Stat(empty); !os.IsNotExist(err) {
			t.Errorf("dist was created after a failure (%v)", err)
		}
	})
}
