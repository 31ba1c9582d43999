package kube

import (
	"sort"
	"strings"
)

// Action is what happened (or, in a dry run, would happen) to an object.
type Action string

const (
	// Created means the object did not exist and was created.
	Created Action = "created"
	// Configured means the object existed and was changed.
	Configured Action = "configured"
	// Unchanged means the object already matched the source.
	Unchanged Action = "unchanged"
	// Deleted means the object was deleted (pruned, or by Delete).
	Deleted Action = "deleted"
	// Skipped means the object was left alone, e.g. a prune candidate that
	// is no longer the object we applied; Message says why.
	Skipped Action = "skipped"
)

// ChangeSetEntry is the result for one object.
type ChangeSetEntry struct {
	// Ref is "Kind/namespace/name" (cluster-scoped: "Kind/name").
	Ref string `json:"ref"`
	// Group is the API group; empty for the core group.
	Group string `json:"group,omitempty"`
	// Version is the API version.
	Version string `json:"version"`
	// Kind is the object's kind.
	Kind string `json:"kind"`
	// Namespace is empty for cluster-scoped objects.
	Namespace string `json:"namespace,omitempty"`
	// Name is the object's name.
	Name string `json:"name"`
	// UID is the object's UID in the cluster (empty in a dry run of a create).
	UID string `json:"uid,omitempty"`
	// Action is what happened to it.
	Action Action `json:"action"`
	// Origin says which source, line and document it came from (empty for
	// objects known only from an inventory).
	Origin string `json:"origin,omitempty"`
	// Status holds selected status fields, e.g. "address" (a LoadBalancer
	// Service's ingress IP or hostname), "readyReplicas" ("2/3"), "ready".
	Status map[string]string `json:"status,omitempty"`
	// Message explains a Skipped action.
	Message string `json:"message,omitempty"`
}

// String renders "Ref action" plus the status fields and message, e.g.
// "Service/demo/web configured address=10.0.0.7".
func (e ChangeSetEntry) String() string {
	var b strings.Builder
	b.WriteString(e.Ref)
	b.WriteString(" ")
	b.WriteString(string(e.Action))
	keys := make([]string, 0, len(e.Status))
	for k := range e.Status {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(" " + k + "=" + e.Status[k])
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// ChangeSet is the per-object result of Apply or Delete, in the order the
// objects were handled.
type ChangeSet struct {
	// Entries holds one entry per object.
	Entries []ChangeSetEntry `json:"entries"`
}

// String renders one line per entry.
func (c ChangeSet) String() string {
	lines := make([]string, len(c.Entries))
	for i, e := range c.Entries {
		lines[i] = e.String()
	}
	return strings.Join(lines, "\n")
}

// Count returns how many entries have the action.
func (c ChangeSet) Count(a Action) int {
	n := 0
	for _, e := range c.Entries {
		if e.Action == a {
			n++
		}
	}
	return n
}

// Summary renders the counts, e.g. "2 created, 5 unchanged".
func (c ChangeSet) Summary() string {
	var parts []string
	for _, a := range []Action{Created, Configured, Unchanged, Deleted, Skipped} {
		if n := c.Count(a); n > 0 {
			parts = append(parts, itoa(n)+" "+string(a))
		}
	}
	if len(parts) == 0 {
		return "no objects"
	}
	return strings.Join(parts, ", ")
}
