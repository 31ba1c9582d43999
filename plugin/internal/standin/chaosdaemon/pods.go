package chaosdaemon

import (
	"context"
	"fmt"
	"slices"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

// containerIndex indexes pods by status.containerStatuses[].containerID.
const containerIndex = "containerID"

// containerIDs lists the container ids of a pod, for containerIndex.
func containerIDs(obj any) ([]string, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return nil, nil
	}
	var ids []string
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.ContainerID != "" {
			ids = append(ids, cs.ContainerID)
		}
	}
	return ids, nil
}

// podRef is the reference of a pod in messages: "Pod/namespace/name".
func podRef(pod *corev1.Pod) string { return "Pod/" + pod.Namespace + "/" + pod.Name }

// podOf returns the pod that has container id, read from the API server so
// that its annotations are current. The index is asked first; when it has
// nothing (kwok may have set the id a moment ago) every pod is listed. No
// pod is code NotFound, as chaos-daemon finds no such container.
func (s *Server) podOf(ctx context.Context, id string) (*corev1.Pod, error) {
	var keys []string
	objs, err := s.podIndex.ByIndex(containerIndex, id)
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		if k, err := cache.MetaNamespaceKeyFunc(o); err == nil {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		list, err := s.kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("list pods to find container %s: %w", id, err)
		}
		for i := range list.Items {
			if ids, _ := containerIDs(&list.Items[i]); slices.Contains(ids, id) {
				keys = append(keys, list.Items[i].Namespace+"/"+list.Items[i].Name)
			}
		}
	}
	switch len(keys) {
	case 0:
		return nil, status.Errorf(codes.NotFound,
			"container %s: no pod has it in status.containerStatuses[].containerID; is the pod still running?", id)
	case 1:
	default:
		slices.Sort(keys)
		return nil, status.Errorf(codes.FailedPrecondition, "container %s: pods %v all have it; container ids must be unique", id, keys)
	}
	ns, name, _ := cache.SplitMetaNamespaceKey(keys[0])
	pod, err := s.kube.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, status.Errorf(codes.NotFound, "container %s: Pod/%s/%s is gone", id, ns, name)
	}
	if err != nil {
		return nil, fmt.Errorf("container %s: get Pod/%s/%s: %w", id, ns, name, err)
	}
	if ids, _ := containerIDs(pod); !slices.Contains(ids, id) {
		return nil, status.Errorf(codes.NotFound, "container %s: %s no longer has it (restarted?)", id, podRef(pod))
	}
	return pod, nil
}

// namespaceAnnotations returns the annotations of namespace ns (none when
// it does not exist).
func (s *Server) namespaceAnnotations(ctx context.Context, ns string) (map[string]string, error) {
	n, err := s.kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get Namespace/%s: %w", ns, err)
	}
	return n.Annotations, nil
}

// callKnobs reads the knob annotations that apply to a call for pod: the
// stand-in's namespace, then the pod's namespace, then the pod.
func (s *Server) callKnobs(ctx context.Context, pod *corev1.Pod) (knobs, error) {
	global, err := s.namespaceAnnotations(ctx, s.opts.Namespace)
	if err != nil {
		return knobs{}, err
	}
	scopes := []scope{{"Namespace/" + s.opts.Namespace, global}}
	if pod != nil {
		if pod.Namespace != s.opts.Namespace {
			local, err := s.namespaceAnnotations(ctx, pod.Namespace)
			if err != nil {
				return knobs{}, err
			}
			scopes = append(scopes, scope{"Namespace/" + pod.Namespace, local})
		}
		scopes = append(scopes, scope{podRef(pod), pod.Annotations})
	}
	k, err := knobsFor(scopes...)
	if err != nil {
		return k, status.Error(codes.InvalidArgument, err.Error())
	}
	return k, nil
}
