// Package chaosdaemon is a STAND-IN for chaos-daemon, the Chaos Mesh
// DaemonSet that injects faults inside containers, for test clusters whose
// pods are simulated by kwok and where chaos-daemon therefore cannot run.
// It serves chaos-daemon's gRPC service (service ChaosDaemon of package pb,
// Chaos Mesh's pkg/chaosdaemon/pb/chaosdaemon.proto) to the real
// chaos-controller-manager, and makes HTTP faults real by driving the fault
// proxies (package tproxy, the STAND-IN for chaos-tproxy) that front
// real local app processes.
//
// # Calls
//
// ApplyHttpChaos is served as pkg/chaosdaemon's HTTP chaos server serves it
// with chaos-tproxy. The controller's PodHttpChaos reconciler sends, for
// the first container of a pod, the complete list of that pod's rules
// (Chaos Mesh's PodHttpChaosBaseRule: target, selector, actions, one per
// HTTPChaos), the proxied ports, the container id, and the instance (pid)
// and start time of the proxy process from its last answer; it keeps the
// answer's instance and start time in the PodHttpChaos status.
//
//   - The list replaces the container's previous rules; an empty list
//     clears them. Rules apply in list order.
//   - The container id is looked up among the pods'
//     status.containerStatuses[].containerID (kwok sets it with
//     scripts/testenv/kwok-stages.yaml). The pod's FaultProxyAnnotation
//     names its fault proxy: the rules are put there with ids RuleIDPrefix +
//     container id + "/" + index (ProxyRule translates each), then the
//     container's other rules there are deleted. A pod without the
//     annotation gets nothing injected and a successful answer, so that
//     lifecycles can be tested on any pod.
//   - Instances: a call naming the instance (instance and startTime, or
//     instance_uid) of the container's running proxy reuses it; any other
//     call starts a new one, as chaos-daemon does after a restart, and the
//     answer names it. Instance numbers are not process ids.
//   - Answers follow chaos-daemon's: status code 200 when applied; 400 with
//     the reason in error when the proxy cannot apply a rule or TLS is
//     asked for (plain HTTP only), the previous rules staying in place, as
//     chaos-tproxy refuses a configuration; gRPC errors for what
//     chaos-daemon fails on: rules that are not JSON (InvalidArgument), no
//     pod with the container (NotFound), a fault proxy that cannot be
//     reached (Unknown). After such an error the instance ends and its
//     rules are cleared, as chaos-daemon kills its proxy process.
//   - When a pod is deleted its containers' rules are cleared, as the proxy
//     process ends with the container.
//
// Every other call of the service (Calls) answers Unimplemented, naming
// the call. enterNS and proxy_ports are accepted and not needed: a fault
// proxy fronts one port, and rules select by their own selector.port.
//
// # Wire format
//
// The two messages are described at run time (field numbers and types of
// chaosdaemon.proto) and coded by the protobuf runtime, instead of importing
// Chaos Mesh's generated package: that would add the chaos-mesh module to
// this module's graph, which raises mattn/go-runewidth (linked into the
// chaosops binary) and ties the project's dependencies to the controller's
// version. The wire test checks the encoding against bytes produced by
// Chaos Mesh's generated code.
//
// # Discovery and transport
//
// The controller finds the daemon of a pod's node in the EndpointSlices of
// its own namespace whose name starts with "chaos-daemon-", taking
// addresses[0] of the endpoint whose nodeName is the pod's spec.nodeName,
// and dials that address at its CHAOS_DAEMON_SERVICE_PORT (default 31767)
// with a 60 s timeout per call. The stand-in publishes EndpointSlice
// SliceName(node) in Options.Namespace for Options.Node with the IP of
// Options.Listen (as addressType FQDN for 127.0.0.1, since loopback IPs are
// not valid endpoint IPs), labelled ManagedBy, at start, and deletes it at
// exit. gRPC is plaintext: the controller dials without TLS when
// CHAOS_MESH_CA_CERT is empty (chart value chaosDaemon.mtls.enabled=false).
//
// # Knobs
//
// Annotations on the target pod, its namespace or Options.Namespace make a
// call fail (FailAnnotation), slow (DelayAnnotation) or unreachable
// (UnreachableAnnotation; on Options.Namespace the listener really closes,
// or the EndpointSlice really goes). See their documentation.
//
// # What it does not
//
// No fault is injected into containers: HTTP faults are real only for
// traffic through a fault proxy, and only for plain HTTP/1.1. No other
// chaos kind (network, IO, stress, time, DNS, JVM, kill) is served. No
// mTLS. One stand-in serves one node; the controller uses one port for
// every daemon.
package chaosdaemon
