package kube

import (
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/cloudify-chaos/chaosops/plugin/failure"
)

// CheckNamespace refuses a namespace name that is not a DNS-1123 label,
// before any request could name it; field is the option to fix. An empty
// name is left to the caller (it often means a default).
func CheckNamespace(field, ns string) error {
	if ns == "" {
		return nil
	}
	if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
		return failure.Invalidf(field, "%q is not a namespace name (%s); use lowercase letters, digits and '-', e.g. chaos-demo", ns, strings.Join(errs, "; "))
	}
	return nil
}
