package chaosdaemon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/internal/standin/tproxy"
)

const (
	abortAPI   = `[{"target":"Request","selector":{"port":8080,"path":"/api/*"},"actions":{"abort":true}}]`
	code503API = `[{"target":"Response","selector":{"port":8080,"path":"/api/*"},"actions":{"replace":{"code":503}}}]`
)

func TestApplyHTTPChaos(t *testing.T) {
	r := newRig(t)
	a := newApp(t)
	pod := r.pod(t, "app", map[string]string{FaultProxyAnnotation: a.admin.URL()})
	cid := pod.Status.ContainerStatuses[0].ContainerID
	prefix := RuleIDPrefix + cid + "/"
	// A rule that is not the stand-in's, which it must leave alone.
	if err := a.admin.Put(t.Context(), "someone/else", tproxy.Rule{Target: api.HTTPRequest, Port: 8080, Path: "/other", Abort: true}); err != nil {
		t.Fatal(err)
	}
	var first ApplyHTTPChaosResponse

	t.Run("an abort rule makes the pod's requests fail", func(t *testing.T) {
		resp, err := r.apply(t, pod, abortAPI)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || resp.Instance == 0 || resp.StartTime == 0 || resp.InstanceUID == "" {
			t.Errorf("answer %+v, want status 200 and an instance", resp)
		}
		first = resp
		if got := a.get(t, "/api/orders"); got != 0 {
			t.Errorf("GET /api/orders = %d, want the connection closed", got)
		}
		if got := a.get(t, "/health"); got != http.StatusOK {
			t.Errorf("GET /health = %d, want 200 (not selected)", got)
		}
		if diff := cmp.Diff([]string{prefix + "0000"}, a.rules(t, prefix)); diff != "" {
			t.Errorf("proxy rules (-want +got):\n%s", diff)
		}
	})

	t.Run("the next call replaces the rule set", func(t *testing.T) {
		resp, err := ApplyHTTPChaos(t.Context(), r.conn, ApplyHTTPChaosRequest{
			Rules: code503API, ContainerID: cid, Instance: first.Instance, StartTime: first.StartTime, EnterNS: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Instance != first.Instance || resp.StartTime != first.StartTime {
			t.Errorf("instance %d/%d, want the running one %d/%d kept", resp.Instance, resp.StartTime, first.Instance, first.StartTime)
		}
		if got := a.get(t, "/api/orders"); got != http.StatusServiceUnavailable {
			t.Errorf("GET /api/orders = %d, want 503", got)
		}
		if got := r.srv.Containers()[cid]; len(got.Rules) != 1 || got.Rules[0].Replace == nil || got.Proxy != a.admin.URL() || got.Pod != podRef(pod) {
			t.Errorf("state %+v, want the one replace rule at %s", got, a.admin.URL())
		}
	})

	t.Run("an empty rule set clears the container's rules and only those", func(t *testing.T) {
		resp, err := r.apply(t, pod, `[]`)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("answer %+v, %v", resp, err)
		}
		if got := a.get(t, "/api/orders"); got != http.StatusOK {
			t.Errorf("GET /api/orders = %d, want 200 again", got)
		}
		if got := a.rules(t, prefix); len(got) != 0 {
			t.Errorf("rules left %v", got)
		}
		if got := a.rules(t, "someone/"); len(got) != 1 {
			t.Errorf("the other rule is gone: %v", got)
		}
	})

	t.Run("a call naming an instance that is not running starts a new one", func(t *testing.T) {
		resp, err := ApplyHTTPChaos(t.Context(), r.conn, ApplyHTTPChaosRequest{Rules: `[]`, ContainerID: cid, Instance: 7, StartTime: 8})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Instance == first.Instance || resp.Instance == 7 {
			t.Errorf("instance %d, want a new one", resp.Instance)
		}
	})

	t.Run("a rule the proxy cannot apply is answered 400 and the rules stay", func(t *testing.T) {
		if _, err := r.apply(t, pod, abortAPI); err != nil {
			t.Fatal(err)
		}
		resp, err := r.apply(t, pod, `[{"target":"Request","selector":{"port":8080},"actions":{"delay":"soon"}}]`)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(resp.Error, "rule.delay") {
			t.Errorf("answer %+v, want 400 naming rule.delay", resp)
		}
		if got := a.get(t, "/api/orders"); got != 0 {
			t.Errorf("GET /api/orders = %d, want the abort still applied", got)
		}
	})

	t.Run("TLS is answered 400: the proxy serves plain HTTP", func(t *testing.T) {
		resp, err := ApplyHTTPChaos(t.Context(), r.conn, ApplyHTTPChaosRequest{Rules: abortAPI, ContainerID: cid, TLS: `{"cert_file":{}}`})
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(resp.Error, "tls:") {
			t.Errorf("answer %+v, want 400 about tls", resp)
		}
	})

	t.Run("rules that are not JSON fail the call and end the instance", func(t *testing.T) {
		_, err := r.apply(t, pod, `[{`)
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "apply config: rules:") {
			t.Errorf("error %v, want InvalidArgument about the rules", err)
		}
		if got := a.rules(t, prefix); len(got) != 0 {
			t.Errorf("rules left after the failed call: %v", got)
		}
		if got := r.srv.Containers()[cid]; got.Instance != 0 {
			t.Errorf("instance %d still running", got.Instance)
		}
	})

	t.Run("a pod whose proxy is down fails the call", func(t *testing.T) {
		down := r.pod(t, "down", map[string]string{FaultProxyAnnotation: "http://127.0.0.1:1"})
		_, err := r.apply(t, down, abortAPI)
		if status.Code(err) != codes.Unknown || !strings.Contains(err.Error(), "connection refused") {
			t.Errorf("error %v, want Unknown with connection refused", err)
		}
	})

	t.Run("a pod without a fault proxy gets a successful answer and no fault", func(t *testing.T) {
		bare := r.pod(t, "bare", nil)
		resp, err := r.apply(t, bare, abortAPI)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("answer %+v, %v", resp, err)
		}
		got := r.srv.Containers()[bare.Status.ContainerStatuses[0].ContainerID]
		if got.Proxy != "" || len(got.Rules) != 1 {
			t.Errorf("state %+v, want the rule remembered and no proxy", got)
		}
	})

	t.Run("a deleted pod's rules are cleared", func(t *testing.T) {
		if _, err := r.apply(t, pod, abortAPI); err != nil {
			t.Fatal(err)
		}
		if err := r.kube.CoreV1().Pods(r.ns).Delete(t.Context(), pod.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil {
			t.Fatal(err)
		}
		err := wait.PollUntilContextTimeout(t.Context(), 50*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
			return len(a.rules(t, prefix)) == 0, nil
		})
		if err != nil {
			t.Errorf("rules %v still there after the pod was deleted", a.rules(t, prefix))
		}
	})

	t.Run("other calls are answered Unimplemented, naming the call", func(t *testing.T) {
		err := r.conn.Invoke(t.Context(), "/pb.ChaosDaemon/SetTcs", &emptypb.Empty{}, &emptypb.Empty{})
		if status.Code(err) != codes.Unimplemented || !strings.Contains(err.Error(), "SetTcs is not served") {
			t.Errorf("SetTcs: %v, want Unimplemented naming it", err)
		}
	})
}

func TestContainerIDs(t *testing.T) {
	r := newRig(t)

	t.Run("kwok gives each container of a Running pod a deterministic id", func(t *testing.T) {
		pod := r.pod(t, "two", nil, "app", "sidecar")
		var got []string
		for _, cs := range pod.Status.ContainerStatuses {
			got = append(got, cs.ContainerID)
		}
		slices.Sort(got)
		want := []string{"kwok://" + string(pod.UID) + "/app", "kwok://" + string(pod.UID) + "/sidecar"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("container ids (-want +got):\n%s", diff)
		}
		for _, id := range want {
			if _, err := ApplyHTTPChaos(t.Context(), r.conn, ApplyHTTPChaosRequest{Rules: `[]`, ContainerID: id}); err != nil {
				t.Errorf("container %s: %v", id, err)
			}
			if got := r.srv.Containers()[id].Pod; got != podRef(pod) {
				t.Errorf("container %s mapped to %q, want %s", id, got, podRef(pod))
			}
		}
	})

	t.Run("an id no pod has is NotFound", func(t *testing.T) {
		_, err := ApplyHTTPChaos(t.Context(), r.conn, ApplyHTTPChaosRequest{Rules: `[]`, ContainerID: "kwok://nobody/app"})
		if status.Code(err) != codes.NotFound || !strings.Contains(err.Error(), "no pod has it") {
			t.Errorf("error %v, want NotFound", err)
		}
	})

	t.Run("an empty id says where ids come from", func(t *testing.T) {
		_, err := ApplyHTTPChaos(t.Context(), r.conn, ApplyHTTPChaosRequest{Rules: `[]`})
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "kwok-stages.yaml") {
			t.Errorf("error %v, want InvalidArgument naming kwok-stages.yaml", err)
		}
	})

	t.Run("the daemon of another node does not see the pod", func(t *testing.T) {
		pod := r.pod(t, "here", nil)
		other := startServer(t, r.cfg, Options{Listen: "127.0.0.1:0", Namespace: r.ns, Node: "kwok-node-9"})
		_, err := ApplyHTTPChaos(t.Context(), dial(t, other.Addr()), ApplyHTTPChaosRequest{Rules: `[]`, ContainerID: pod.Status.ContainerStatuses[0].ContainerID})
		if status.Code(err) != codes.NotFound || !strings.Contains(err.Error(), `runs on node "kwok-node-0"`) {
			t.Errorf("error %v, want NotFound naming the pod's node", err)
		}
	})
}

func TestKnobs(t *testing.T) {
	r := newRig(t)
	a := newApp(t)
	pod := r.pod(t, "app", map[string]string{FaultProxyAnnotation: a.admin.URL()})

	t.Run("a fail annotation on the pod fails its calls with the message", func(t *testing.T) {
		r.annotate(t, pod.Name, FailAnnotation, "disk full")
		_, err := r.apply(t, pod, abortAPI)
		if status.Code(err) != codes.Unknown || status.Convert(err).Message() != "disk full" {
			t.Errorf("error %v, want Unknown: disk full", err)
		}
		if got := a.get(t, "/api/orders"); got != http.StatusOK {
			t.Errorf("GET /api/orders = %d, want 200: nothing applied", got)
		}
		r.annotate(t, pod.Name, FailAnnotation, "")
		if _, err := r.apply(t, pod, `[]`); err != nil {
			t.Errorf("after removing the annotation: %v", err)
		}
	})

	t.Run("a fail-recovery annotation lets the fault in and keeps it there", func(t *testing.T) {
		r.annotate(t, pod.Name, FailRecoveryAnnotation, "recovery refused")
		if _, err := r.apply(t, pod, abortAPI); err != nil {
			t.Fatalf("injection: %v", err)
		}
		_, err := r.apply(t, pod, `[]`)
		if status.Code(err) != codes.Unknown || status.Convert(err).Message() != "recovery refused" {
			t.Errorf("recovery error %v, want Unknown: recovery refused", err)
		}
		if got := a.get(t, "/api/orders"); got == http.StatusOK {
			t.Errorf("GET /api/orders = 200, want the fault still there")
		}
		r.annotate(t, pod.Name, FailRecoveryAnnotation, "")
		if _, err := r.apply(t, pod, `[]`); err != nil {
			t.Errorf("recovery after removing the annotation: %v", err)
		}
		if got := a.get(t, "/api/orders"); got != http.StatusOK {
			t.Errorf("GET /api/orders = %d after recovery, want 200", got)
		}
	})

	t.Run("a delay annotation on the namespace slows the call; a short deadline expires", func(t *testing.T) {
		r.annotate(t, "", DelayAnnotation, "700ms")
		defer r.annotate(t, "", DelayAnnotation, "")
		start := time.Now()
		if _, err := r.apply(t, pod, `[]`); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took < 700*time.Millisecond {
			t.Errorf("call took %v, want at least 700ms", took)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		_, err := ApplyHTTPChaos(ctx, r.conn, ApplyHTTPChaosRequest{Rules: `[]`, ContainerID: pod.Status.ContainerStatuses[0].ContainerID})
		if status.Code(err) != codes.DeadlineExceeded {
			t.Errorf("error %v, want DeadlineExceeded", err)
		}
	})

	t.Run("an unreachable annotation on the pod answers as a refused connection", func(t *testing.T) {
		r.annotate(t, pod.Name, UnreachableAnnotation, "true")
		defer r.annotate(t, pod.Name, UnreachableAnnotation, "")
		_, err := r.apply(t, pod, abortAPI)
		if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "dial tcp "+r.srv.Addr()+": connect: connection refused") {
			t.Errorf("error %v, want Unavailable, connection refused", err)
		}
	})

	t.Run("a malformed annotation fails the call naming it", func(t *testing.T) {
		r.annotate(t, pod.Name, DelayAnnotation, "soon")
		defer r.annotate(t, pod.Name, DelayAnnotation, "")
		_, err := r.apply(t, pod, `[]`)
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "Pod/"+r.ns+"/app: annotation "+DelayAnnotation) {
			t.Errorf("error %v, want InvalidArgument naming the annotation", err)
		}
	})

	t.Run("refuse on the daemon's namespace closes the listener until it is removed", func(t *testing.T) {
		r.annotate(t, "", UnreachableAnnotation, "refuse")
		// A new connection for each try, as the controller dials per call.
		waitFor(t, "connections refused", func() bool {
			_, err := r.applyFresh(t, pod)
			return status.Code(err) == codes.Unavailable && strings.Contains(err.Error(), "connection refused")
		})
		if !r.sliceExists(t) {
			t.Error("the EndpointSlice went too; only the listener should")
		}
		r.annotate(t, "", UnreachableAnnotation, "")
		waitFor(t, "the listener back", func() bool { _, err := r.applyFresh(t, pod); return err == nil })
	})

	t.Run("unpublished on the daemon's namespace deletes the EndpointSlice until it is removed", func(t *testing.T) {
		r.annotate(t, "", UnreachableAnnotation, "unpublished")
		waitFor(t, "the slice deleted", func() bool { return !r.sliceExists(t) })
		r.annotate(t, "", UnreachableAnnotation, "")
		waitFor(t, "the slice back", func() bool { return r.sliceExists(t) })
	})
}

// applyFresh calls ApplyHttpChaos with empty rules over a new connection.
func (r *rig) applyFresh(t *testing.T, pod interface{ GetName() string }) (ApplyHTTPChaosResponse, error) {
	t.Helper()
	p, err := r.kube.CoreV1().Pods(r.ns).Get(t.Context(), pod.GetName(), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	conn := dial(t, r.srv.Addr())
	defer conn.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	return ApplyHTTPChaos(ctx, conn, ApplyHTTPChaosRequest{Rules: `[]`, ContainerID: p.Status.ContainerStatuses[0].ContainerID})
}

func (r *rig) sliceExists(t *testing.T) bool {
	t.Helper()
	_, err := r.kube.DiscoveryV1().EndpointSlices(r.ns).Get(t.Context(), SliceName(DefaultNode), metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s after 15s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// daemonAddress finds the daemon of node as the controller does
// (controllers/utils/chaosdaemon): the first endpoint on the node in a
// slice of the namespace named chaos-daemon-*, its first address.
func daemonAddress(slices []discoveryv1.EndpointSlice, node string) string {
	for _, s := range slices {
		if !strings.HasPrefix(s.Name, "chaos-daemon-") {
			continue
		}
		for _, ep := range s.Endpoints {
			if ep.NodeName != nil && *ep.NodeName == node {
				return ep.Addresses[0]
			}
		}
	}
	return ""
}

func TestEndpointSlice(t *testing.T) {
	r := newRig(t)

	t.Run("the controller's lookup finds the daemon's address on the node", func(t *testing.T) {
		list, err := r.kube.DiscoveryV1().EndpointSlices(r.ns).List(t.Context(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		host, port, _ := strings.Cut(r.srv.Addr(), ":")
		if got := daemonAddress(list.Items, DefaultNode); got != host {
			t.Errorf("daemon address %q, want %q", got, host)
		}
		s := list.Items[0]
		if s.Labels[discoveryv1.LabelManagedBy] != ManagedBy || *s.Ports[0].Name != "grpc" || fmt.Sprint(*s.Ports[0].Port) != port {
			t.Errorf("slice labels %v ports %v", s.Labels, s.Ports)
		}
	})

	t.Run("it is deleted when the stand-in stops", func(t *testing.T) {
		ns := r.ns
		ctx, cancel := context.WithCancel(context.Background())
		srv, err := New(r.cfg, Options{Listen: "127.0.0.1:0", Namespace: ns, Node: "kwok-node-8", Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		ready := make(chan struct{})
		srv.opts.Ready = func() { close(ready) }
		done := make(chan error, 1)
		go func() { done <- srv.Serve(ctx) }()
		select {
		case <-ready:
		case err := <-done:
			t.Fatalf("Serve: %v", err)
		case <-time.After(30 * time.Second):
			cancel()
			t.Fatal("not ready after 30s")
		}
		if _, err := r.kube.DiscoveryV1().EndpointSlices(ns).Get(t.Context(), SliceName("kwok-node-8"), metav1.GetOptions{}); err != nil {
			t.Fatal(err)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		_, err = r.kube.DiscoveryV1().EndpointSlices(ns).Get(t.Context(), SliceName("kwok-node-8"), metav1.GetOptions{})
		if !apierrors.IsNotFound(err) {
			t.Errorf("slice after stop: %v, want NotFound", err)
		}
	})

	t.Run("a slice of the same name that is not the stand-in's stops it from starting, and stays", func(t *testing.T) {
		foreign := &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: SliceName("kwok-node-7"), Namespace: r.ns},
			AddressType: discoveryv1.AddressTypeIPv4,
		}
		if _, err := r.kube.DiscoveryV1().EndpointSlices(r.ns).Create(t.Context(), foreign, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		srv, err := New(r.cfg, Options{Listen: "127.0.0.1:0", Namespace: r.ns, Node: "kwok-node-7", Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		err = srv.Serve(ctx)
		if !errors.Is(err, errForeignSlice) || !strings.Contains(err.Error(), "EndpointSlice/"+r.ns+"/chaos-daemon-kwok-node-7") {
			t.Errorf("Serve = %v, want the foreign slice named", err)
		}
		if _, err := r.kube.DiscoveryV1().EndpointSlices(r.ns).Get(t.Context(), foreign.Name, metav1.GetOptions{}); err != nil {
			t.Errorf("foreign slice: %v", err)
		}
	})
}

func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{Listen: "31767"}, `listen: "31767" is not host:port; use e.g. 127.0.0.1:31767`},
		{Options{Listen: "localhost:31767"}, `listen: host "localhost" is not an IP the controller can dial`},
		{Options{Listen: "0.0.0.0:31767"}, `listen: host "0.0.0.0" is not an IP the controller can dial`},
		{Options{Namespace: "Chaos_Mesh"}, `namespace: "Chaos_Mesh" is not a namespace name`},
		{Options{Node: "Node 0"}, `node: "Node 0" is not a node name`},
	} {
		err := tc.opts.withDefaults().validate()
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("validate(%+v) = %v, want %q", tc.opts, err, tc.want)
		}
	}
	if err := (Options{}).withDefaults().validate(); err != nil {
		t.Errorf("the defaults are invalid: %v", err)
	}
}
