// Package manifest reads Kubernetes objects from inline text, files,
// directories and checksummed HTTPS URLs. It renders them as Go templates
// when values are given, splits multi-document YAML and JSON streams,
// flattens List kinds, and remembers for every object where it came from
// (source, document, line), so that later errors can point at it.
//
// It does not talk to a cluster: defaulting namespaces and mapping kinds to
// resources happen in package kube.
package manifest
