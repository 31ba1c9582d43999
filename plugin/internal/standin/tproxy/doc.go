// Package tproxy is a STAND-IN for chaos-daemon's HTTP fault injection
// (chaos-tproxy), for machines where pods are simulated and chaos-daemon
// cannot run. A Proxy is a reverse proxy in front of one local app process,
// answering for one container port; its admin API takes rules derived from
// HTTPChaos specs (RuleFromHTTPChaos) and applies them to the traffic that
// passes, so the fault is real for that traffic. The chaos-daemon stand-in
// (plugin/internal/standin/chaosdaemon) puts and deletes the rules when the real
// Chaos Mesh controller calls ApplyHttpChaos for a pod annotated with the
// proxy's admin URL.
//
// # Semantics (those of chaos-tproxy)
//
// A rule applies when its port (0: any) equals the proxy's Port, its path
// matches the request's path (a glob where "*" matches any sequence,
// slashes included, and "?" one character; the whole path must match),
// its method equals the request's, every request header it names has the
// given value among the request's values, and, for target Response, the
// status code and response headers match too. Response rules are matched
// against the request as the request rules left it. All the rules that
// match are applied in id order; each rule's actions run in the order
// abort, delay, replace, patch:
//
//   - abort closes the connection without a response: before forwarding
//     for target Request, after the upstream answered for Response;
//   - delay waits before forwarding (Request) or before returning
//     (Response); a client that goes away ends the wait;
//   - replace sets the path, method, queries, headers and body of the
//     request, or the code, headers and body of the response;
//   - patch appends queries and headers and merges a JSON merge patch
//     (RFC 7396) into a JSON body.
//
// A rule that cannot be applied (a body to patch that is not JSON or is
// larger than MaxBodyBytes) closes the connection, as chaos-tproxy does.
// An unreachable upstream yields 502 Bad Gateway.
//
// # Admin API
//
//	PUT    /rules/{id}   a Rule as JSON; 201 created, 200 replaced, 400 invalid
//	DELETE /rules/{id}   204 deleted, 404 no such rule
//	GET    /rules        200 with the rules as [{"id": ..., "rule": ...}] in id order
//
// Ids may contain slashes. AdminClient speaks this API.
//
// # What it does not
//
// No transparent interception (clients must address the proxy), no TLS,
// no HTTP/2, no role (client/server) selection.
package tproxy
