package commands_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/cloudify-chaos/chaosops/plugin/cloudify/scriptrunner"
	"github.com/cloudify-chaos/chaosops/plugin/internal/chaosbin"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
	"github.com/cloudify-chaos/chaosops/plugin/launcher"
)

// git runs git in dir and returns its standard output.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// TestTrackedSymlinks fails on a committed symbolic link that only works on
// the machine that made it: an absolute target, or one that leads out of
// the repository or nowhere.
func TestTrackedSymlinks(t *testing.T) {
	root, err := filepath.Abs(repoRoot())
	if err != nil {
		t.Fatal(err)
	}
	if root, err = filepath.EvalSymlinks(root); err != nil {
		t.Fatal(err)
	}
	n := 0
	sc := bufio.NewScanner(strings.NewReader(git(t, root, "ls-files", "-s", "-z")))
	sc.Split(splitNUL)
	for sc.Scan() {
		// "<mode> <object> <stage>\t<path>"
		meta, path, ok := strings.Cut(sc.Text(), "\t")
		if !ok || !strings.HasPrefix(meta, "120000 ") {
			continue
		}
		n++
		object := strings.Fields(meta)[1]
		target := git(t, root, "cat-file", "blob", object)
		if filepath.IsAbs(target) {
			t.Errorf("%s -> %s: the link is absolute; make it relative to its folder", path, target)
			continue
		}
		lexical := filepath.Join(root, filepath.Dir(path), target)
		if rel, err := filepath.Rel(root, lexical); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			t.Errorf("%s -> %s: resolves outside the repository (%s)", path, target, lexical)
			continue
		}
		resolved, err := filepath.EvalSymlinks(filepath.Join(root, path))
		if err != nil {
			t.Errorf("%s -> %s: does not resolve: %v", path, target, err)
			continue
		}
		if rel, err := filepath.Rel(root, resolved); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			t.Errorf("%s -> %s: resolves outside the repository through another link (%s)", path, target, resolved)
		}
	}
	if n == 0 {
		t.Fatal("no tracked symbolic link found; the bundle's types links are expected (is this a git checkout?)")
	}
}

func splitNUL(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// TestBundleFromClone builds the bundle from a fresh clone of HEAD, so it
// sees what is committed and nothing that happens to be on this disk, and
// checks every archive as a manager would use it: unpacked, linted as an
// archive, and one operation run through the archive's own launcher and
// executable against the ctx stand-in.
func TestBundleFromClone(t *testing.T) {
	if testing.Short() {
		t.Skip("clones the repository and builds the bundle")
	}
	clone := filepath.Join(t.TempDir(), "chaosops")
	git(t, repoRoot(), "clone", "--quiet", "--no-hardlinks", repoRoot(), clone)
	mains, _ := filepath.Glob(filepath.Join(clone, "blueprints", "*", "blueprint.yaml"))
	var want []string
	for _, m := range mains {
		want = append(want, filepath.Base(filepath.Dir(m))+".tar.gz")
	}
	if len(want) != 5 {
		t.Fatalf("the clone has %d blueprints (%v), want the bundle's 5", len(want), want)
	}

	dist := t.TempDir()
	cmd := exec.Command(filepath.Join(clone, "scripts", "bundle.sh"))
	cmd.Dir = clone
	cmd.Env = append(os.Environ(), "CHAOSOPS_BIN="+chaosbin.Path(t), "BUNDLE_DIST="+dist)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make bundle's script in a fresh clone: %v\n%s", err, out)
	}
	entries, _ := os.ReadDir(dist)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	sort.Strings(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("archives (-want +got):\n%s", diff)
	}

	for _, archive := range got {
		name := strings.TrimSuffix(archive, ".tar.gz")
		t.Run(name, func(t *testing.T) {
			unpacked := t.TempDir()
			if out, err := exec.Command("tar", "-xzf", filepath.Join(dist, archive), "-C", unpacked).CombinedOutput(); err != nil {
				t.Fatalf("untar: %v\n%s", err, out)
			}
			folder := filepath.Join(unpacked, name)
			exe := filepath.Join(folder, filepath.FromSlash(launcher.ExecutablePath))

			lint := exec.Command(exe, "blueprint", "lint", "--archive", folder)
			if out, err := lint.CombinedOutput(); err != nil || !strings.Contains(string(out), ": ok") {
				t.Errorf("the archive's own chaosops blueprint lint --archive: %v\n%s", err, out)
			}
			runInfoThroughLauncher(t, folder)
		})
	}
}

// runInfoThroughLauncher runs chaosops.info the way script_runner runs the
// bundle's implementation: its own copy of the launcher in a fresh folder,
// ctx on PATH, an empty executable cache, and download-resource served from
// the archive folder.
func runInfoThroughLauncher(t *testing.T, folder string) {
	t.Helper()
	tmp := t.TempDir()
	script, err := os.ReadFile(filepath.Join(folder, filepath.FromSlash(launcher.LauncherPath)))
	if err != nil {
		t.Fatal(err)
	}
	impl := filepath.Join(tmp, "exec", "chaosops.sh")
	pathDir := filepath.Join(tmp, "path")
	for _, d := range []string{filepath.Dir(impl), pathDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(impl, script, 0o755); err != nil {
		t.Fatal(err)
	}
	// The manager's ctx command; the archive's executable is one too.
	if err := os.Symlink(filepath.Join(folder, filepath.FromSlash(launcher.ExecutablePath)), filepath.Join(pathDir, "ctx")); err != nil {
		t.Fatal(err)
	}
	p, err := scriptrunner.NewProxy(&scriptrunner.State{Operation: scriptrunner.Operation{Name: "chaosops.info"}, Node: scriptrunner.Node{ID: "n"}, Instance: scriptrunner.Instance{ID: "n_1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.ResourceDir = folder
	res, err := p.Run(t.Context(), scriptrunner.Spec{
		Executable: impl,
		Env:        append(os.Environ(), "PATH="+pathDir+":"+os.Getenv("PATH"), "CHAOSOPS_CACHE_DIR="+filepath.Join(tmp, "cache")),
		Dir:        tmp,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != scriptrunner.Success {
		t.Fatalf("chaosops.info through the archive's launcher: %s %q\nstdout: %s\nstderr: %s", res.Outcome, res.Message, res.Stdout, res.Stderr)
	}
	downloads := 0
	for _, c := range res.Calls {
		if len(c) > 1 && c[0] == "download-resource" && c[1] == launcher.ExecutablePath {
			downloads++
		}
	}
	if downloads != 1 {
		t.Errorf("the launcher fetched %s %d times from the archive, want once (empty cache)", launcher.ExecutablePath, downloads)
	}
	facts, _ := res.Returned.(map[string]any)
	if v, _ := facts["version"].(string); v == "" || v != chaosbin.Version(t) {
		t.Errorf("chaosops.info returned version %v, want the bundled executable's %q (returned %v)", facts["version"], chaosbin.Version(t), res.Returned)
	}
}

// TestChaosMeshVersionIsStatedOnce checks that the bundle installs the
// Chaos Mesh release whose CRDs the tests run against, that the version is
// written in one place (the Chaos-Mesh blueprint's chart_version default),
// and that the test chart standing in for it says the same.
func TestChaosMeshVersionIsStatedOnce(t *testing.T) {
	root := repoRoot()
	crds := filepath.Join(testenv.SharedDir(t), "crds", "chaos-mesh-crd.yaml")
	f, err := os.Open(crds)
	if err != nil {
		t.Fatalf("the pinned Chaos Mesh CRDs: %v", err)
	}
	first, _ := bufio.NewReader(f).ReadString('\n')
	f.Close()
	m := regexp.MustCompile(`tag v(\d+\.\d+\.\d+)`).FindStringSubmatch(first)
	if m == nil {
		t.Fatalf("%s: the first line does not name the release tag: %q", crds, first)
	}
	pinned := m[1]

	var bp struct {
		Inputs map[string]struct {
			Default any `yaml:"default"`
		} `yaml:"inputs"`
	}
	mainFile := filepath.Join(root, "blueprints", "Chaos-Mesh", "blueprint.yaml")
	b, err := os.ReadFile(mainFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &bp); err != nil {
		t.Fatal(err)
	}
	if got := bp.Inputs["chart_version"].Default; got != pinned {
		t.Errorf("Chaos-Mesh installs chart_version %v, but the tests run against the v%s CRDs (%s)", got, pinned, crds)
	}

	// No other file of the bundle's Chaos Mesh part names a version: a
	// second mention would go stale at the next bump.
	version := regexp.MustCompile(`\b\d+\.\d+\.\d+\b`)
	for _, path := range []string{mainFile, filepath.Join(root, "manifests", "chaos-mesh", "values.yaml"), filepath.Join(root, "manifests", "chaos-mesh", "dashboard-rbac.yaml")} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if path == mainFile && strings.TrimSpace(line) == "default: "+pinned {
				continue
			}
			if v := version.FindString(line); v != "" {
				t.Errorf("%s:%d names version %s; state the Chaos Mesh version only as chart_version's default", path, i+1, v)
			}
		}
	}

	var chart struct {
		Version string `yaml:"version"`
	}
	cb, err := os.ReadFile(filepath.Join(root, "examples", "local-demo", "chaos-mesh-standin-chart", "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(cb, &chart); err != nil {
		t.Fatal(err)
	}
	if chart.Version != pinned {
		t.Errorf("the stand-in chart is version %s, want the pinned %s (the bundle test installs it with the default chart_version)", chart.Version, pinned)
	}
}

// TestDemoAppImageBaseAgrees keeps the prebuilt image's base (the
// Dockerfile) on the stock Python image the blueprint runs the app on by
// default, so both ways run the same interpreter.
func TestDemoAppImageBaseAgrees(t *testing.T) {
	bp := loadBundled(t, "Python-Prometheus")
	want, _ := bp.Inputs["python_image"].Default.(string)
	b, err := os.ReadFile(filepath.Join(repoRoot(), "examples", "python-prometheus", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^FROM (\S+)`).FindSubmatch(b)
	if want == "" || m == nil || string(m[1]) != want {
		t.Errorf("examples/python-prometheus/Dockerfile is FROM %q, the blueprint's python_image is %q; keep them the same", m, want)
	}
}
