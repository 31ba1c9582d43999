package chaosdaemon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"

	"github.com/cloudify-chaos/chaosops/plugin/internal/standin/tproxy"
)

// FaultProxyAnnotation on a pod names the admin URL of the fault proxy
// (package tproxy) in front of the pod's app, e.g.
// "http://127.0.0.1:19080": the stand-in applies the rules of the pod's
// containers there. scripts/demo.sh's service stand-in (plugin/internal/cmd/app-standin)
// and plugin/internal/apprig set it.
const FaultProxyAnnotation = "standin.chaosops.dev/fault-proxy"

// RuleIDPrefix begins the id of every rule the stand-in puts to a fault
// proxy; the rule of index i of container c is RuleIDPrefix+c+"/"+i (four
// digits, so that the proxy's id order is the rules' order).
const RuleIDPrefix = "chaos-daemon/"

// firstInstance is the first instance number handed out; chaos-daemon's are
// process ids, and these only need to be unique for the stand-in's life.
const firstInstance = 100000

// container is what the stand-in holds for one container id: the proxy
// "process" (instance) that chaos-daemon would run in it, and where its
// rules are.
type container struct {
	mu        sync.Mutex // serialises the calls for the container
	instance  int64      // 0: none running
	startTime int64
	uid       string
	pod       string // "Pod/namespace/name" of the last call
	proxy     string // admin URL holding the rules; "" none
	rules     []tproxy.Rule
}

// ContainerState is what the stand-in applied for one container, for
// tests.
type ContainerState struct {
	// Pod is "Pod/namespace/name".
	Pod string
	// Instance is the proxy instance, 0 when none runs.
	Instance int64
	// Proxy is the admin URL of the fault proxy holding the rules; empty
	// when the pod has no FaultProxyAnnotation.
	Proxy string
	// Rules are the rules applied, in order.
	Rules []tproxy.Rule
}

// ApplyHTTPChaos serves ApplyHttpChaos: it sets the rules of the fault
// proxy of req's container to exactly req's rules (see the package
// documentation). Errors are gRPC status errors.
func (s *Server) ApplyHTTPChaos(ctx context.Context, req ApplyHTTPChaosRequest) (ApplyHTTPChaosResponse, error) {
	resp, err := s.applyHTTPChaos(ctx, req)
	if err != nil {
		s.log.Warn("ApplyHttpChaos failed", "container", req.ContainerID, "err", err)
		return resp, grpcError(err)
	}
	return resp, nil
}

func (s *Server) applyHTTPChaos(ctx context.Context, req ApplyHTTPChaosRequest) (ApplyHTTPChaosResponse, error) {
	if req.ContainerID == "" {
		return ApplyHTTPChaosResponse{}, status.Error(codes.InvalidArgument,
			"container_id: empty; the controller sends the pod's status.containerStatuses[0].containerID, which kwok sets only with scripts/testenv/kwok-stages.yaml")
	}
	// Knobs apply to calls for unknown containers too (the pod's own ones
	// then cannot).
	pod, podErr := s.podOf(ctx, req.ContainerID)
	if podErr != nil && status.Code(podErr) != codes.NotFound {
		return ApplyHTTPChaosResponse{}, podErr
	}
	k, err := s.callKnobs(ctx, pod)
	if err != nil {
		return ApplyHTTPChaosResponse{}, err
	}
	if err := s.applyKnobs(ctx, k); err != nil {
		return ApplyHTTPChaosResponse{}, err
	}
	if podErr != nil {
		return ApplyHTTPChaosResponse{}, podErr
	}
	if pod.Spec.NodeName != s.opts.Node {
		// chaos-daemon only sees the containers of its own node.
		return ApplyHTTPChaosResponse{}, status.Errorf(codes.NotFound,
			"container %s: %s runs on node %q, not on this daemon's node %q", req.ContainerID, podRef(pod), pod.Spec.NodeName, s.opts.Node)
	}

	c := s.container(req.ContainerID)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pod = podRef(pod)
	if !c.runs(req) {
		if req.Instance != 0 || req.InstanceUID != "" {
			// chaos-daemon does the same when its proxy process is gone.
			s.log.Info("unknown proxy instance: starting a new one", "pod", c.pod, "container", req.ContainerID,
				"instance", req.Instance, "startTime", req.StartTime)
		}
		s.startInstance(c)
	}
	resp := ApplyHTTPChaosResponse{Instance: c.instance, StartTime: c.startTime, InstanceUID: c.uid, StatusCode: http.StatusOK}

	rules, err := DecodeRules(req.Rules)
	if err != nil {
		s.stopInstance(ctx, c, req.ContainerID)
		return ApplyHTTPChaosResponse{}, status.Errorf(codes.InvalidArgument, "apply config: %v", err)
	}
	if req.TLS != "" {
		resp.StatusCode, resp.Error = http.StatusBadRequest, "tls: the fault proxy stand-in serves plain HTTP only; remove tls from the HTTPChaos"
		return resp, nil
	}
	proxyRules, err := ProxyRules(rules)
	if err != nil {
		// What chaos-tproxy does with a configuration it cannot apply:
		// refuse it and keep the previous one.
		resp.StatusCode, resp.Error = http.StatusBadRequest, err.Error()
		return resp, nil
	}
	if k.failRecover != "" && len(proxyRules) < len(c.rules) {
		return ApplyHTTPChaosResponse{}, status.Error(codes.Unknown, k.failRecover)
	}
	if err := s.setRules(ctx, c, req.ContainerID, pod.Annotations[FaultProxyAnnotation], proxyRules); err != nil {
		s.stopInstance(ctx, c, req.ContainerID)
		return ApplyHTTPChaosResponse{}, fmt.Errorf("apply config for %s: %w", c.pod, err)
	}
	s.log.Info("http chaos applied", "pod", c.pod, "container", req.ContainerID, "rules", len(proxyRules),
		"proxy", c.proxy, "instance", c.instance)
	return resp, nil
}

// applyKnobs waits, fails or refuses as k says.
func (s *Server) applyKnobs(ctx context.Context, k knobs) error {
	if k.delay > 0 {
		t := time.NewTimer(k.delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if k.unreachable {
		// What the controller sees when nothing listens at the address.
		return status.Errorf(codes.Unavailable,
			`connection error: desc = "transport: Error while dialing: dial tcp %s: connect: connection refused"`, s.addr)
	}
	if k.fail != "" {
		return status.Error(codes.Unknown, k.fail)
	}
	return nil
}

// runs reports whether the instance req names is c's running one.
func (c *container) runs(req ApplyHTTPChaosRequest) bool {
	if c.instance == 0 {
		return false
	}
	if req.InstanceUID != "" {
		return req.InstanceUID == c.uid
	}
	return req.Instance == c.instance && req.StartTime == c.startTime
}

func (s *Server) container(id string) *container {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.containers[id]
	if c == nil {
		c = &container{}
		s.containers[id] = c
	}
	return c
}

func (s *Server) startInstance(c *container) {
	s.mu.Lock()
	s.lastInstance++
	c.instance = s.lastInstance
	s.mu.Unlock()
	c.startTime = s.now().UnixMilli()
	c.uid = fmt.Sprintf("standin-%d", c.instance)
}

// stopInstance ends c's instance after a failed call, as chaos-daemon kills
// its proxy process: the container's rules go too, as far as the proxy can
// be reached.
func (s *Server) stopInstance(ctx context.Context, c *container, id string) {
	if c.proxy != "" {
		if err := s.clearRules(ctx, c.proxy, id); err != nil {
			s.log.Warn("clearing the rules of a failed instance", "pod", c.pod, "container", id, "proxy", c.proxy, "err", err)
		}
	}
	c.instance, c.startTime, c.uid, c.proxy, c.rules = 0, 0, "", "", nil
}

// ruleID is the id of rule i of container id at a fault proxy.
func ruleID(id string, i int) string { return fmt.Sprintf("%s%s/%04d", RuleIDPrefix, id, i) }

// setRules makes the rules of container id at adminURL exactly rules:
// every rule is put (replacing the one of the same index), then the
// container's other rules there are deleted. When the pod's proxy changed,
// the old one is cleared first. A pod without a proxy only has its rules
// remembered.
func (s *Server) setRules(ctx context.Context, c *container, id, adminURL string, rules []tproxy.Rule) error {
	if c.proxy != "" && c.proxy != adminURL {
		if err := s.clearRules(ctx, c.proxy, id); err != nil {
			s.log.Warn("clearing the rules at the pod's previous proxy", "pod", c.pod, "proxy", c.proxy, "err", err)
		}
		c.proxy = ""
	}
	if adminURL == "" {
		c.rules = rules
		s.log.Info("pod has no fault proxy: rules kept, no traffic affected", "pod", c.pod, "annotation", FaultProxyAnnotation)
		return nil
	}
	admin, err := tproxy.NewAdminClient(adminURL)
	if err != nil {
		return fmt.Errorf("annotation %s: %w", FaultProxyAnnotation, err)
	}
	existing, err := admin.List(ctx)
	if err != nil {
		return err
	}
	// Remembered before the first put, so that a failure part way is
	// cleaned up from the right proxy.
	c.proxy = adminURL
	keep := map[string]bool{}
	for i, r := range rules {
		if err := admin.Put(ctx, ruleID(id, i), r); err != nil {
			return err
		}
		keep[ruleID(id, i)] = true
	}
	for _, e := range existing {
		if strings.HasPrefix(e.ID, RuleIDPrefix+id+"/") && !keep[e.ID] {
			if _, err := admin.Delete(ctx, e.ID); err != nil {
				return err
			}
		}
	}
	c.rules = rules
	return nil
}

// clearRules deletes every rule of container id at adminURL. A proxy that
// is not running holds no rules.
func (s *Server) clearRules(ctx context.Context, adminURL, id string) error {
	admin, err := tproxy.NewAdminClient(adminURL)
	if err != nil {
		return err
	}
	existing, err := admin.List(ctx)
	if errors.Is(err, syscall.ECONNREFUSED) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range existing {
		if strings.HasPrefix(e.ID, RuleIDPrefix+id+"/") {
			if _, err := admin.Delete(ctx, e.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// podGone forgets the containers of a deleted pod and clears their rules,
// as a container's proxy process ends with the container.
func (s *Server) podGone(ctx context.Context, pod *corev1.Pod) {
	ids, _ := containerIDs(pod)
	for _, id := range ids {
		s.mu.Lock()
		c := s.containers[id]
		delete(s.containers, id)
		s.mu.Unlock()
		if c == nil {
			continue
		}
		c.mu.Lock()
		if c.proxy != "" {
			if err := s.clearRules(ctx, c.proxy, id); err != nil {
				s.log.Warn("clearing the rules of a deleted pod", "pod", podRef(pod), "container", id, "proxy", c.proxy, "err", err)
			} else {
				s.log.Info("pod deleted: its rules are cleared", "pod", podRef(pod), "container", id, "proxy", c.proxy)
			}
		}
		c.mu.Unlock()
	}
}

// Containers returns what the stand-in applied, by container id.
func (s *Server) Containers() map[string]ContainerState {
	s.mu.Lock()
	cs := make(map[string]*container, len(s.containers))
	for id, c := range s.containers {
		cs[id] = c
	}
	s.mu.Unlock()
	out := make(map[string]ContainerState, len(cs))
	for id, c := range cs {
		c.mu.Lock()
		out[id] = ContainerState{Pod: c.pod, Instance: c.instance, Proxy: c.proxy, Rules: c.rules}
		c.mu.Unlock()
	}
	return out
}
