//go:build tools

// Package tools pins the binaries that scripts/testenv.sh builds: a real
// Kubernetes control plane (kube-apiserver, kube-controller-manager,
// kube-scheduler, kubectl), its etcd, and kwok for simulated nodes. The build
// tag keeps it out of every build; it exists so that `go mod tidy` keeps the
// requirements below.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "sigs.k8s.io/kwok/cmd/kwok"
)
