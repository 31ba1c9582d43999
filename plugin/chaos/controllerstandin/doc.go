// Package controllerstandin is a STAND-IN for the Chaos Mesh controller
// (chaos-controller-manager), for test clusters where chaos-daemon cannot
// run. It injects no fault itself (but see "Fault proxies" below). It
// watches the chaos objects of
// package api (HTTPChaos, PodChaos, NetworkChaos, StressChaos, IOChaos,
// DNSChaos, TimeChaos, JVMChaos, KernelChaos) and drives their finalizer
// and status exactly as the real controller's common pipeline does, so that
// code which creates experiments and waits on their conditions can be
// tested end to end against a real API server.
//
// # What it reproduces
//
// Each reconcile runs Chaos Mesh's pipeline steps in its order, each one
// writing its own change with a whole-object update (the chaos CRDs have no
// status subresource) and retrying on conflicts:
//
//  1. init finalizer: add chaos-mesh/records to a live object;
//  2. desired phase: Stop if deleted; Run if one-shot (PodChaos pod-kill,
//     container-kill); Stop once the duration, counted from
//     creationTimestamp, is over; Stop while the annotation
//     experiment.chaos-mesh.org/pause is "true"; else Run;
//  3. conditions: Selected (records exist), AllInjected, AllRecovered,
//     Paused, derived from the records as they were before step 4 (so the
//     first write after creation says Selected=False);
//  4. records: select targets once, then apply or recover every record
//     towards the desired phase, appending Apply/Recover events (Succeeded
//     or Failed with a message, at most MaxEvents kept); a failure is
//     retried with the workqueue's exponential backoff and ends the pass;
//  5. clean finalizer: on a deleted object, empty the finalizer list once
//     every record is Not Injected, or at once with the annotation
//     chaos-mesh.chaos-mesh.org/cleanFinalizer: forced. As in Chaos Mesh, a
//     recovery that keeps failing ends every pass at step 4, so even the
//     forced annotation does not release the object until recovery works.
//
// Selection follows pkg/selector: namespaces (defaulting to the object's
// own, as Chaos Mesh's webhook does), labelSelectors, expressionSelectors,
// annotationSelectors, fieldSelectors, podPhaseSelectors, nodes,
// nodeSelectors and explicit pods, then mode and value. Pods are not
// filtered by phase unless podPhaseSelectors say so. Record ids are
// "namespace/pod", or "namespace/pod/container" for the container kinds
// (StressChaos, IOChaos, DNSChaos, TimeChaos, JVMChaos, PodChaos
// container-kill; the first container when containerNames is empty);
// NetworkChaos's target selector yields records with selectorKey ".Target".
// When nothing is selected the records stay unset (Selected=False) and a
// Warning Event "Failed to select targets: ..." is emitted; like Chaos Mesh,
// nothing retries the selection until the object changes. With
// Options.NamespaceFilter only pods of namespaces annotated
// chaos-mesh.org/inject=enabled are eligible. Objects with
// spec.remoteCluster are left to another cluster. Updates that only add
// record events do not trigger a reconcile. Kubernetes Events carry the
// real controller's reasons and messages (Started, Paused, TimeUp, Deleted,
// Applied, Recovered, Failed, Updated, FinalizerInited).
//
// # What it does not
//
// No fault is injected and nothing is contacted besides the API server
// and fault proxies: no chaos-daemon, no PodHttpChaos/PodIOChaos/PodNetworkChaos child objects,
// no status.instances, pod-kill deletes no pod. An injection succeeds
// unless a knob says otherwise, except that it fails when the record's pod
// is gone, or is not Running for a fault that chaos-daemon would inject
// inside its containers (every kind but PodChaos pod-kill and pod-failure).
// No webhook runs, so invalid specs are not rejected at creation (validate
// with api's Object.Validate). Schedules, workflows, the namespace-scoped
// mode (CLUSTER_SCOPED=false) and leader election are not reproduced.
// Reads go to the API server rather than a cache; the conditions list has a
// fixed order (Chaos Mesh's varies).
//
// # Knobs
//
// Options and, per object, annotations choose an outcome (annotation wins):
// fail injection (FailInjectionAnnotation: records get Apply/Failed
// events with the message, AllInjected stays False), fail recovery
// (FailRecoveryAnnotation), keep the finalizer after recovery until
// cleanFinalizer is forced (StickyFinalizerAnnotation), and slow injection
// (InjectionDelayAnnotation: records wait in "Not Injected/Wait", as Chaos
// Mesh's HTTP, IO and network chaos do while chaos-daemon syncs).
//
// # Fault proxies
//
// An HTTPChaos record of a pod annotated FaultProxyAnnotation with the
// admin URL of a fault proxy (package faultproxy, a STAND-IN for
// chaos-daemon's HTTP fault injection, in front of a real local app) is
// injected by putting the spec's rule there, id FaultRuleID, before the
// record becomes Injected; a proxy that cannot be reached or refuses the
// rule fails the injection with its message. Recovery deletes the rule;
// a proxy without it, or not running, counts as recovered.
//
// Several stand-ins can share a cluster: each handles the namespaces whose
// InstanceLabel equals its Options.Instance (empty: unlabelled namespaces).
//
// Run it in-process with Run, or as the command
// plugin/cmd/chaos-controller-standin.
package controllerstandin
