package local_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestPythonPrometheusPodCommand runs what the rendered pod runs, on this
// machine: the ConfigMap's data and the emptyDirs become folders standing
// for their mount paths, and the app container's command starts with its
// environment. The init container's pip install is skipped (no PyPI
// here): Debian's python3-flask and python3-prometheus-client, the
// versions requirements.txt pins, stand in for what it installs.
func TestPythonPrometheusPodCommand(t *testing.T) {
	const python = "/usr/bin/python3"
	if out, err := exec.Command(python, "-c", "import flask, prometheus_client").CombinedOutput(); err != nil {
		t.Skipf("%s cannot import flask and prometheus_client (apt-get install python3-flask python3-prometheus-client): %v\n%s", python, err, out)
	}
	objs := renderApp(t, nil)
	spec := deploymentOf(t, objs).Spec.Template.Spec
	checkRunsConfigMapCode(t, spec)
	if t.Failed() {
		return
	}
	data := map[string]map[string]string{}
	for _, o := range objs {
		if o.GetKind() == "ConfigMap" {
			data[o.GetName()], _, _ = unstructured.NestedStringMap(o.Object, "data")
		}
	}

	root := t.TempDir()
	volumes := map[string]string{}
	for _, v := range spec.Volumes {
		dir := filepath.Join(root, "volumes", v.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		volumes[v.Name] = dir
		switch {
		case v.EmptyDir != nil:
		case v.ConfigMap != nil && len(v.ConfigMap.Items) == 0:
			files, ok := data[v.ConfigMap.Name]
			if !ok {
				t.Fatalf("volume %s: ConfigMap %s is not among the rendered objects", v.Name, v.ConfigMap.Name)
			}
			for name, content := range files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o444); err != nil {
					t.Fatal(err)
				}
			}
		default:
			t.Fatalf("volume %s: %+v has no stand-in here (emptyDir and whole ConfigMaps only)", v.Name, v.VolumeSource)
		}
	}

	t.Run("the init container installs exact pins, the versions the host stands in with", func(t *testing.T) {
		init := spec.InitContainers[0]
		req := onHost(t, init, volumes, flagValue(slices.Concat(init.Command, init.Args), "-r"))
		checkHostHasPins(t, python, req)
	})

	app := container(t, spec.Containers, "app")
	argv := slices.Concat(app.Command, app.Args)
	if argv[0] != "python" {
		t.Fatalf("the app container runs %q, not python", argv)
	}
	for i := range argv[1:] {
		argv[i+1] = onHost(t, app, volumes, argv[i+1])
	}
	port := freePort(t)
	if envOf(app, "PORT") != strconv.Itoa(int(app.Ports[0].ContainerPort)) {
		t.Errorf("PORT=%q, container port %d", envOf(app, "PORT"), app.Ports[0].ContainerPort)
	}
	env := []string{"PATH=" + os.Getenv("PATH")}
	for _, e := range app.Env {
		v := e.Value
		if e.Name == "PORT" {
			v = strconv.Itoa(port) // the container's 8080 may be taken here
		} else {
			parts := strings.Split(v, ":")
			for i, p := range parts {
				parts[i] = onHost(t, app, volumes, p)
			}
			v = strings.Join(parts, ":")
		}
		env = append(env, e.Name+"="+v)
	}

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, argv[1:]...)
	cmd.Env = env
	cmd.Dir = t.TempDir()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel()
		<-exited
	})

	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	get := func(path string) (int, string, error) {
		resp, err := http.Get(base + path)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("%q exited before answering: %v\n%s", argv, err, out.String())
		default:
		}
		if code, _, err := get("/health"); err == nil && code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q did not answer /health within 20s\n%s", argv, out.String())
		}
	}

	t.Run("GET /health answers ok", func(t *testing.T) {
		code, body, err := get("/health")
		if err != nil || code != http.StatusOK || !strings.Contains(body, `"ok"`) {
			t.Fatalf("GET /health: %d %q %v", code, body, err)
		}
	})
	t.Run("GET /metrics counts the requests in http_requests_total", func(t *testing.T) {
		if code, _, err := get("/api/orders"); err != nil || code != http.StatusOK {
			t.Fatalf("GET /api/orders: %d %v", code, err)
		}
		code, body, err := get("/metrics")
		if err != nil || code != http.StatusOK {
			t.Fatalf("GET /metrics: %d %v", code, err)
		}
		for _, want := range []string{
			`http_requests_total{method="GET",path="/health",status="200"}`,
			`http_requests_total{method="GET",path="/api/orders",status="200"} 1.0`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %s:\n%s", want, body)
			}
		}
	})
}

// onHost maps path, as container c sees it, to the host folder standing
// for the volume mounted there; a path under no mount is returned as is.
func onHost(t *testing.T, c corev1.Container, volumes map[string]string, path string) string {
	t.Helper()
	best := corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		if (path == m.MountPath || strings.HasPrefix(path, m.MountPath+"/")) && len(m.MountPath) > len(best.MountPath) {
			best = m
		}
	}
	if best.MountPath == "" {
		return path
	}
	if best.SubPath != "" {
		t.Fatalf("container %s mounts %s with subPath: no stand-in here", c.Name, best.MountPath)
	}
	return volumes[best.Name] + strings.TrimPrefix(path, best.MountPath)
}

var pin = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][0-9A-Za-z.+-]*)$`)

// checkHostHasPins fails t unless every line of the requirements file req
// (comments aside) is an exact pin, and python has exactly that version.
func checkHostHasPins(t *testing.T, python, req string) {
	t.Helper()
	b, err := os.ReadFile(req)
	if err != nil {
		t.Fatal(err)
	}
	pins := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := pin.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("requirements.txt: %q is not an exact pin NAME==VERSION", line)
			continue
		}
		pins[m[1]] = m[2]
	}
	if len(pins) == 0 {
		t.Fatal("requirements.txt pins nothing")
	}
	names := make([]string, 0, len(pins))
	for n := range pins {
		names = append(names, n)
	}
	slices.Sort(names)
	script := "import importlib.metadata as m, sys\nfor n in sys.argv[1:]: print(m.version(n))"
	out, err := exec.Command(python, append([]string{"-c", script}, names...)...).Output()
	if err != nil {
		t.Fatalf("%s: versions of %v: %v", python, names, err)
	}
	got := strings.Fields(string(out))
	for i, n := range names {
		if len(got) != len(names) {
			t.Fatalf("%s printed %q for %v", python, got, names)
		}
		if got[i] != pins[n] {
			t.Errorf("the host's %s is %s, requirements.txt pins %s: the stand-in differs from what the pod installs", n, got[i], pins[n])
		}
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
