package chaosdaemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// Labels of the EndpointSlice the stand-in publishes.
const (
	// ManagedBy is the value of the EndpointSlice's
	// endpointslice.kubernetes.io/managed-by label: the stand-in only
	// updates and deletes slices that carry it, and Kubernetes' EndpointSlice
	// controller leaves them alone.
	ManagedBy = "chaos-daemon-standin.chaosops.dev"
)

// errForeignSlice says that a slice of the stand-in's name belongs to
// someone else.
var errForeignSlice = errors.New("exists and is not the stand-in's")

// SliceName is the name of the EndpointSlice published for node:
// "chaos-daemon-<node>". The controller takes any slice of its namespace
// whose name starts with "chaos-daemon-".
func SliceName(node string) string { return "chaos-daemon-" + node }

func (s *Server) sliceRef() string {
	return "EndpointSlice/" + s.opts.Namespace + "/" + SliceName(s.opts.Node)
}

// endpointSlice is the slice that tells the controller where the daemon of
// the node is, in the shape of the slices of the chart's chaos-daemon
// Service. The controller reads endpoints[].nodeName and addresses[0]
// and dials that address at its own CHAOS_DAEMON_SERVICE_PORT; the port
// here is for people. A loopback address is not a valid IPv4 endpoint, so
// it is published as an FQDN ("127.0.0.1" is one by Kubernetes' rules),
// which the controller dials all the same.
func (s *Server) endpointSlice() (*discoveryv1.EndpointSlice, error) {
	host, portText, err := net.SplitHostPort(s.addr)
	if err != nil {
		return nil, err
	}
	port, _ := strconv.Atoi(portText)
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return nil, fmt.Errorf("listen address %s: host is not an IP", s.addr)
	}
	addrType := discoveryv1.AddressTypeIPv4
	switch {
	case ip.Is4() && ip.IsLoopback():
		addrType = discoveryv1.AddressTypeFQDN
	case ip.Is6() && ip.IsLoopback():
		return nil, fmt.Errorf("listen address %s: an IPv6 loopback cannot be published; listen on 127.0.0.1", s.addr)
	case ip.Is6():
		addrType = discoveryv1.AddressTypeIPv6
	}
	return &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name:      SliceName(s.opts.Node),
			Namespace: s.opts.Namespace,
			Labels: map[string]string{
				// No kubernetes.io/service-name: no Service stands behind it.
				discoveryv1.LabelManagedBy:    ManagedBy,
				"app.kubernetes.io/component": "chaos-daemon",
			},
		},
		AddressType: addrType,
		Endpoints: []discoveryv1.Endpoint{{
			Addresses: []string{ip.String()},
			NodeName:  ptr.To(s.opts.Node),
			Conditions: discoveryv1.EndpointConditions{
				Ready: ptr.To(true), Serving: ptr.To(true), Terminating: ptr.To(false),
			},
		}},
		Ports: []discoveryv1.EndpointPort{{
			Name: ptr.To("grpc"), Port: ptr.To(int32(port)), Protocol: ptr.To(corev1.ProtocolTCP),
		}},
	}, nil
}

// publish creates the EndpointSlice, or brings one of the stand-in's up to
// date (a stand-in killed before it could delete its slice leaves one). A
// slice of that name that is not the stand-in's is an error.
func (s *Server) publish(ctx context.Context) error {
	want, err := s.endpointSlice()
	if err != nil {
		return fmt.Errorf("%s: %w", s.sliceRef(), err)
	}
	api := s.kube.DiscoveryV1().EndpointSlices(s.opts.Namespace)
	cur, err := api.Get(ctx, want.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		if _, err := api.Create(ctx, want, metav1.CreateOptions{FieldManager: FieldManager}); err != nil {
			return fmt.Errorf("%s: create: %w", s.sliceRef(), err)
		}
		s.log.Info("published", "ref", s.sliceRef(), "address", s.addr, "node", s.opts.Node)
		return nil
	case err != nil:
		return fmt.Errorf("%s: get: %w", s.sliceRef(), err)
	case cur.Labels[discoveryv1.LabelManagedBy] != ManagedBy:
		return fmt.Errorf("%s: %w (label %s=%q, want %q); delete it or run the stand-in for another node",
			s.sliceRef(), errForeignSlice, discoveryv1.LabelManagedBy, cur.Labels[discoveryv1.LabelManagedBy], ManagedBy)
	case cur.AddressType != want.AddressType:
		// addressType is immutable.
		if err := s.unpublish(ctx); err != nil {
			return err
		}
		return s.publish(ctx)
	}
	cur.Labels, cur.Endpoints, cur.Ports = want.Labels, want.Endpoints, want.Ports
	if _, err := api.Update(ctx, cur, metav1.UpdateOptions{FieldManager: FieldManager}); err != nil {
		return fmt.Errorf("%s: update: %w", s.sliceRef(), err)
	}
	s.log.Info("published (the slice of an earlier run, updated)", "ref", s.sliceRef(), "address", s.addr, "node", s.opts.Node)
	return nil
}

// unpublish deletes the EndpointSlice if it is the stand-in's.
func (s *Server) unpublish(ctx context.Context) error {
	api := s.kube.DiscoveryV1().EndpointSlices(s.opts.Namespace)
	cur, err := api.Get(ctx, SliceName(s.opts.Node), metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("%s: get: %w", s.sliceRef(), err)
	case cur.Labels[discoveryv1.LabelManagedBy] != ManagedBy:
		s.log.Warn("not deleting a slice that is not the stand-in's", "ref", s.sliceRef())
		return nil
	}
	err = api.Delete(ctx, cur.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &cur.UID}})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("%s: delete: %w", s.sliceRef(), err)
	}
	s.log.Info("unpublished", "ref", s.sliceRef())
	return nil
}
