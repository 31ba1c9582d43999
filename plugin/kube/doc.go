// Package kube applies, waits for, diffs and deletes Kubernetes objects with
// server-side apply: the engine behind the kubernetes.apply and
// kubernetes.delete operations and the `chaosops apply|delete|diff` commands.
//
// Connect opens a Client (kubeconfig, API options or in-cluster). A Manager
// built on it then works on objects read by package manifest:
//
//   - Apply applies them in tiers (Namespaces and other definitions first,
//     then the rest in parallel, webhooks last). CRDs are applied with the
//     rest, and each custom resource waits for its CRD to be Established.
//     Objects already up to date are not written. Apply then prunes what
//     left the source, and optionally waits for readiness.
//   - Plan returns the inventory Apply is about to create, to be stored
//     before anything is written.
//   - Wait waits until objects are ready by kstatus rules.
//   - Delete deletes an inventory (or the objects of a source) in reverse tier
//     order and waits until they are gone.
//   - Diff shows what Apply would change, as a unified diff of YAML.
//   - Patch applies partial objects to existing objects under a field
//     manager of their own, so the fields other managers own stay; Unpatch
//     releases those fields again.
//
// Results are typed (ChangeSet, Inventory, DiffResult) and rendered by the
// caller. Every log line and error about an object begins with its Ref,
// e.g. "HTTPChaos/demo/abort-3f9c".
package kube
