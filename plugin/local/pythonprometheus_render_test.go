package local_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/cloudify-chaos/chaosops/plugin/blueprint"
	"github.com/cloudify-chaos/chaosops/plugin/kube/manifest"
	"github.com/cloudify-chaos/chaosops/plugin/launcher"
)

// renderApp renders the Python-Prometheus blueprint's app node the way
// kubernetes.apply does: its files, read through the blueprint folder, as
// templates with its values, given inputs over the declared defaults.
func renderApp(t *testing.T, given map[string]any) []manifest.Object {
	t.Helper()
	bp, err := blueprint.LoadWith(filepath.Join(repoRoot(), "blueprints", "Python-Prometheus", "blueprint.yaml"), blueprint.LoadOptions{Bundled: launcher.BundledFiles})
	if err != nil {
		t.Fatal(err)
	}
	inputs, err := bp.ResolveInputs(given)
	if err != nil {
		t.Fatal(err)
	}
	r := &blueprint.StaticResolver{Blueprint: bp, Inputs: inputs}
	files, err := r.Property("app", []any{"files"})
	if err != nil {
		t.Fatal(err)
	}
	values, err := r.Property("app", []any{"values"})
	if err != nil {
		t.Fatal(err)
	}
	var srcs []manifest.Source
	for _, f := range files.([]any) {
		srcs = append(srcs, manifest.Source{Name: f.(string), Path: filepath.Join(bp.Dir, f.(string))})
	}
	objs, err := manifest.Load(t.Context(), srcs, manifest.Options{Values: values.(map[string]any)})
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// podSpecs returns the pod specs of every workload among objs, by
// "Kind/name".
func podSpecs(t *testing.T, objs []*unstructured.Unstructured) map[string]corev1.PodSpec {
	t.Helper()
	paths := map[string][]string{
		"Pod":         {"spec"},
		"Deployment":  {"spec", "template", "spec"},
		"StatefulSet": {"spec", "template", "spec"},
		"DaemonSet":   {"spec", "template", "spec"},
		"ReplicaSet":  {"spec", "template", "spec"},
		"Job":         {"spec", "template", "spec"},
		"CronJob":     {"spec", "jobTemplate", "spec", "template", "spec"},
	}
	out := map[string]corev1.PodSpec{}
	for _, o := range objs {
		path, ok := paths[o.GetKind()]
		if !ok {
			continue
		}
		raw, found, err := unstructured.NestedMap(o.Object, path...)
		if err != nil || !found {
			t.Fatalf("%s/%s: no pod spec at %v (%v)", o.GetKind(), o.GetName(), path, err)
		}
		var spec corev1.PodSpec
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &spec); err != nil {
			t.Fatalf("%s/%s: %v", o.GetKind(), o.GetName(), err)
		}
		out[o.GetKind()+"/"+o.GetName()] = spec
	}
	return out
}

func unstructuredOf(objs []manifest.Object) []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, len(objs))
	for i, o := range objs {
		out[i] = o.Unstructured
	}
	return out
}

// checkOfficialImages fails t for every container and init container of
// specs whose image is not a Docker Official Image pinned by tag, and
// returns how many images it checked.
func checkOfficialImages(t *testing.T, specs map[string]corev1.PodSpec) int {
	t.Helper()
	n := 0
	for owner, spec := range specs {
		for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
			n++
			if err := officialImage(c.Image); err != nil {
				t.Errorf("%s container %s: %v", owner, c.Name, err)
			}
		}
	}
	return n
}

// officialImage says why ref is not a Docker Official Image (Docker Hub's
// library namespace: python:3.11, docker.io/library/python:3.11) pinned by
// a tag other than latest or by a digest; nil when it is one.
func officialImage(ref string) error {
	name, digest, _ := strings.Cut(ref, "@")
	tag := ""
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name, tag = name[:i], name[i+1:]
	}
	parts := strings.Split(name, "/")
	if first := parts[0]; len(parts) > 1 && (strings.ContainsAny(first, ".:") || first == "localhost") {
		if !slices.Contains([]string{"docker.io", "index.docker.io", "registry-1.docker.io"}, first) {
			return fmt.Errorf("image %q is on registry %s, not Docker Hub", ref, first)
		}
		parts = parts[1:]
	}
	if len(parts) == 2 && parts[0] == "library" {
		parts = parts[1:]
	}
	switch {
	case len(parts) != 1 || parts[0] == "":
		return fmt.Errorf("image %q is not in Docker Hub's official library namespace", ref)
	case digest == "" && (tag == "" || tag == "latest"):
		return fmt.Errorf("image %q is not pinned: give it a tag such as python:3.11.15-slim-bookworm", ref)
	}
	return nil
}

func TestOfficialImage(t *testing.T) {
	tests := []struct {
		ref string
		ok  bool
	}{
		{"python:3.11.15-slim-bookworm", true},
		{"docker.io/library/python:3.11.15-slim-bookworm", true},
		{"library/python:3.11", true},
		{"index.docker.io/library/python:3.11", true},
		{"python@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", true},
		{"python", false},
		{"python:latest", false},
		{"docker.io/library/python", false},
		{"ghcr.io/cloudify-chaos/python-prometheus:0.1.0", false},
		{"bitnami/python:3.11", false},
		{"docker.io/bitnami/python:3.11", false},
		{"localhost:5000/python:3.11", false},
		{"localhost/python:3.11", false},
		{"quay.io/library/python:3.11", false},
		{"python-prometheus:test", true}, // well-formed: whether Hub has it is not a name's business
	}
	for _, tc := range tests {
		err := officialImage(tc.ref)
		if (err == nil) != tc.ok {
			t.Errorf("officialImage(%q) = %v, want ok=%v", tc.ref, err, tc.ok)
		}
	}
}

// container returns spec's container (or init container) name.
func container(t *testing.T, cs []corev1.Container, name string) corev1.Container {
	t.Helper()
	i := slices.IndexFunc(cs, func(c corev1.Container) bool { return c.Name == name })
	if i < 0 {
		t.Fatalf("no container %s among %d", name, len(cs))
	}
	return cs[i]
}

// mountOf returns where c mounts the volume named volume, or "".
func mountOf(c corev1.Container, volume string) corev1.VolumeMount {
	for _, m := range c.VolumeMounts {
		if m.Name == volume {
			return m
		}
	}
	return corev1.VolumeMount{}
}

// envOf returns c's environment variable name, or "".
func envOf(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// checkRunsConfigMapCode fails t unless spec runs the app from the
// ConfigMap appConfigMap: the app container runs python on app.py where it
// mounts the ConfigMap, and the init container pip-installs its
// requirements.txt into a volume on the app's PYTHONPATH.
func checkRunsConfigMapCode(t *testing.T, spec corev1.PodSpec) {
	t.Helper()
	vi := slices.IndexFunc(spec.Volumes, func(v corev1.Volume) bool { return v.ConfigMap != nil && v.ConfigMap.Name == appConfigMap })
	if vi < 0 {
		t.Fatalf("no volume of ConfigMap %s in %+v", appConfigMap, spec.Volumes)
	}
	code := spec.Volumes[vi].Name
	app := container(t, spec.Containers, "app")
	mount := mountOf(app, code)
	if mount.MountPath == "" || !mount.ReadOnly || mount.SubPath != "" {
		t.Fatalf("the app container mounts volume %s as %+v; want the whole ConfigMap, read-only", code, mount)
	}
	if want := []string{"python", mount.MountPath + "/app.py"}; !slices.Equal(slices.Concat(app.Command, app.Args), want) {
		t.Errorf("the app container runs %q, want %q", slices.Concat(app.Command, app.Args), want)
	}
	if len(spec.InitContainers) != 1 {
		t.Fatalf("%d init containers, want 1 (pip install)", len(spec.InitContainers))
	}
	init := spec.InitContainers[0]
	if init.Image != app.Image {
		t.Errorf("init container image %s, app image %s: want the same Python", init.Image, app.Image)
	}
	argv := slices.Concat(init.Command, init.Args)
	target, req := flagValue(argv, "--target"), flagValue(argv, "-r")
	if req != mountOf(init, code).MountPath+"/requirements.txt" || !slices.Contains(argv, "--no-deps") || !slices.Equal(argv[:4], []string{"python", "-m", "pip", "install"}) {
		t.Errorf("init container runs %q; want python -m pip install --no-deps --target DIR -r %s/requirements.txt", argv, mountOf(init, code).MountPath)
	}
	deps := ""
	for _, m := range init.VolumeMounts {
		if m.MountPath == target && !m.ReadOnly {
			deps = m.Name
		}
	}
	di := slices.IndexFunc(spec.Volumes, func(v corev1.Volume) bool { return v.Name == deps && v.EmptyDir != nil })
	if deps == "" || di < 0 {
		t.Fatalf("pip's --target %s is not a writable emptyDir mount of the init container", target)
	}
	if p := mountOf(app, deps).MountPath; p == "" || !slices.Contains(strings.Split(envOf(app, "PYTHONPATH"), ":"), p) {
		t.Errorf("the app container mounts the requirements at %q, PYTHONPATH=%q: want it on the path", p, envOf(app, "PYTHONPATH"))
	}
	if envOf(init, "PIP_NO_CACHE_DIR") != "1" {
		t.Error("the init container does not turn pip's cache off (PIP_NO_CACHE_DIR=1)")
	}
}

// flagValue returns the argument after flag in argv, or "".
func flagValue(argv []string, flag string) string {
	if i := slices.Index(argv, flag); i >= 0 && i+1 < len(argv) {
		return argv[i+1]
	}
	return ""
}

// checkHardened fails t unless spec runs every container as a fixed
// non-root user with a read-only root filesystem, no capabilities,
// seccomp RuntimeDefault, a writable HOME, and probes on /health.
func checkHardened(t *testing.T, spec corev1.PodSpec) {
	t.Helper()
	psc := spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 ||
		psc.RunAsGroup == nil || *psc.RunAsGroup == 0 || psc.FSGroup == nil ||
		psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext %+v: want runAsNonRoot, fixed uid/gid, fsGroup and seccomp RuntimeDefault", psc)
	}
	writable := map[string]bool{}
	for _, v := range spec.Volumes {
		writable[v.Name] = v.EmptyDir != nil
	}
	for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
			sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
			t.Errorf("container %s securityContext %+v: want a read-only root filesystem, no privilege escalation, capabilities drop ALL", c.Name, sc)
		}
		home := envOf(c, "HOME")
		okHome := false
		for _, m := range c.VolumeMounts {
			okHome = okHome || writable[m.Name] && !m.ReadOnly && (home == m.MountPath || strings.HasPrefix(home, m.MountPath+"/"))
		}
		if !okHome {
			t.Errorf("container %s: HOME=%q is not on a writable emptyDir mount", c.Name, home)
		}
	}
	app := container(t, spec.Containers, "app")
	for name, p := range map[string]*corev1.Probe{"readiness": app.ReadinessProbe, "liveness": app.LivenessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/health" {
			t.Errorf("the app's %s probe %+v: want GET /health", name, p)
		}
	}
}

func TestPythonPrometheusRender(t *testing.T) {
	t.Run("default inputs use only official public images", func(t *testing.T) {
		specs := podSpecs(t, unstructuredOf(renderApp(t, nil)))
		if len(specs) == 0 {
			t.Fatal("no workload rendered")
		}
		if n := checkOfficialImages(t, specs); n < 2 {
			t.Errorf("only %d containers checked; want the app and its init container", n)
		}
	})

	t.Run("by default the app runs from the generated ConfigMap, hardened", func(t *testing.T) {
		objs := renderApp(t, nil)
		dep := deploymentOf(t, objs)
		spec := dep.Spec.Template.Spec
		checkRunsConfigMapCode(t, spec)
		checkHardened(t, spec)
		file, err := os.ReadFile(filepath.Join(appManifests(), "app-configmap.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if got := dep.Spec.Template.Annotations[checksumAnnotation]; got != sha256Hex(file) {
			t.Errorf("pod template %s = %q, want the sha256 of app-configmap.yaml %s", checksumAnnotation, got, sha256Hex(file))
		}
		if !slices.ContainsFunc(objs, func(o manifest.Object) bool { return o.GetKind() == "ConfigMap" && o.GetName() == appConfigMap }) {
			t.Errorf("ConfigMap %s is not among the rendered objects", appConfigMap)
		}
	})

	t.Run("a prebuilt image runs its own CMD without init container or ConfigMap mount", func(t *testing.T) {
		spec := deploymentOf(t, renderApp(t, map[string]any{"image": prebuiltImage})).Spec.Template.Spec
		app := container(t, spec.Containers, "app")
		if app.Image != prebuiltImage || len(app.Command)+len(app.Args) != 0 {
			t.Errorf("app container image %s command %q args %q; want %s and its CMD", app.Image, app.Command, app.Args, prebuiltImage)
		}
		if len(spec.InitContainers) != 0 {
			t.Errorf("%d init containers, want none", len(spec.InitContainers))
		}
		for _, v := range spec.Volumes {
			if v.ConfigMap != nil {
				t.Errorf("volume %s mounts ConfigMap %s", v.Name, v.ConfigMap.Name)
			}
		}
		if envOf(app, "PYTHONPATH") != "" {
			t.Errorf("PYTHONPATH=%s; the image has its requirements installed", envOf(app, "PYTHONPATH"))
		}
		checkHardened(t, spec)
	})
}

func deploymentOf(t *testing.T, objs []manifest.Object) *appsv1.Deployment {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == "Deployment" && o.GetName() == "python-prometheus" {
			var d appsv1.Deployment
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &d); err != nil {
				t.Fatal(err)
			}
			return &d
		}
	}
	t.Fatal("no Deployment python-prometheus rendered")
	return nil
}
