package chaos

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
)

// FailureClass says whether a failure the controller reports can still go
// away by itself.
type FailureClass string

// The classes.
const (
	// Transient failures are retried by the controller and may succeed:
	// the run keeps waiting, up to its timeout.
	Transient FailureClass = "transient"
	// Permanent failures will not succeed however long the run waits: the
	// run ends at once (injection_failed, or an error during recovery).
	Permanent FailureClass = "permanent"
)

// FailureSource says where the controller reports a failure.
type FailureSource string

// The places.
const (
	// InRecordEvent is a Failed entry of
	// status.experiment.containerRecords[].events (Apply or Recover).
	InRecordEvent FailureSource = "record event"
	// InKubeEvent is a Warning Event (reason Failed) on the chaos object:
	// failures before any record exists, such as selection.
	InKubeEvent FailureSource = "Kubernetes Event"
)

// FailurePattern is one row of the classification table.
type FailurePattern struct {
	Where FailureSource
	// Pattern matches the message (a regular expression).
	Pattern *regexp.Regexp
	// Text is the message as README's table shows it.
	Text  string
	Class FailureClass
	// Repeats is how many failed attempts in a row of one record must
	// match before a permanent failure counts (0 and 1: the first does),
	// for failures a restart could still clear in a moment.
	Repeats int
	// Why is what the failure means, for messages and the README.
	Why string
	// Upstream is where Chaos Mesh produces it (v2.8.3 and master).
	Upstream string
}

// failurePatterns is the one classification of the controller's failure
// messages. Whatever no row matches is transient: the controller retries
// every failed Apply and Recover with its rate limiter
// (controllers/common/records/controller.go, needRetry), so only what is
// known to repeat for ever, or never to be retried, is permanent.
var failurePatterns = []FailurePattern{
	{
		Where: InRecordEvent, Text: "cannot find daemonIP on node", Pattern: regexp.MustCompile(`cannot find daemonIP on node`), Class: Permanent,
		Why: "no chaos-daemon serves the target's node (no EndpointSlice chaos-daemon-* with an endpoint on it): every retry fails the same way",
		// FindDaemonIP returns it; the PodHttpChaos/PodIOChaos/PodNetworkChaos
		// reconcilers copy it into status.failedMessage, which Apply in phase
		// "Not Injected/Wait" returns as the record's error.
		Upstream: "controllers/utils/chaosdaemon/chaosdaemon.go FindDaemonIP; controllers/podhttpchaos/controller.go; controllers/chaosimpl/httpchaos/impl.go Apply",
	},
	{
		Where: InRecordEvent, Text: "connection refused", Pattern: regexp.MustCompile(`connect: connection refused|code = Unavailable desc = connection refused`), Class: Permanent, Repeats: 3,
		Why: "the node's chaos-daemon address refuses connections: no daemon listens there (it is down, or the EndpointSlice names the wrong port); after 3 refused attempts in a row the run stops waiting, since the controller's backoff retries within a second",
		// The PodHttpChaos reconciler dials the address FindDaemonIP gave
		// and copies the gRPC error into status.failedMessage.
		Upstream: "controllers/utils/chaosdaemon/chaosdaemon.go NewChaosDaemonClient; controllers/podhttpchaos/controller.go",
	},
	{
		Where: InRecordEvent, Text: "pod not found", Pattern: regexp.MustCompile(`pods? "[^"]*" not found|\bpod not found\b`), Class: Permanent,
		Why: "the target pod is gone; the records are never selected again",
		// Apply reads the pod; the manager's CreateNewPodHttpChaos returns
		// ErrPodNotFound; records are fixed once selected ("TODO: dynamic
		// upgrade the records").
		Upstream: "controllers/chaosimpl/httpchaos/impl.go Apply; controllers/chaosimpl/httpchaos/podhttpchaosmanager/manager.go ErrPodNotFound; controllers/common/records/controller.go",
	},
	{
		Where: InRecordEvent, Text: "has empty container status", Pattern: regexp.MustCompile(`has empty container status`), Class: Permanent,
		Why:      "the pod reports no container; the PodHttpChaos reconciler gives up without a requeue",
		Upstream: "controllers/podhttpchaos/controller.go Reconcile (utils.ErrContainerNotFound)",
	},
	{
		Where: InKubeEvent, Text: "Failed to select targets: ", Pattern: regexp.MustCompile(`Failed to select targets: `), Class: Permanent,
		Why: "nothing was selected (no matching pod, or the namespace filter excludes it); the controller does not retry the selection until the object changes",
		// The records step emits recorder.Failed{Activity: "select targets"}
		// and returns ctrl.Result{} (no requeue) when Select fails or
		// selects nothing.
		Upstream: "controllers/common/records/controller.go Reconcile; controllers/utils/recorder/error.go",
	},
}

// FailurePatterns returns the classification table, for documentation.
func FailurePatterns() []FailurePattern { return append([]FailurePattern(nil), failurePatterns...) }

// ClassifyFailure says whether a failure message from where is permanent,
// and why; messages no row matches are transient. A permanent row with
// Repeats counts only once it has repeated (see permanentRecordFailure).
func ClassifyFailure(where FailureSource, msg string) (FailureClass, string) {
	if p := matchFailure(where, msg); p != nil {
		return p.Class, p.Why
	}
	return Transient, ""
}

func matchFailure(where FailureSource, msg string) *FailurePattern {
	for i, p := range failurePatterns {
		if p.Where == where && p.Pattern.MatchString(msg) {
			return &failurePatterns[i]
		}
	}
	return nil
}

// permanentRecordFailure finds records whose latest attempt failed
// permanently (its last Repeats attempts, for rows that ask for them). It
// ignores records already where the desired phase drives them, so an old
// failure followed by success does not count.
func permanentRecordFailure(o *api.Object) (string, bool) {
	if o == nil {
		return "", false
	}
	var parts []string
	for _, rec := range o.Status.Experiment.Records {
		if settled(rec.Phase, o.Status.Experiment.DesiredPhase) || len(rec.Events) == 0 {
			continue
		}
		ev := rec.Events[len(rec.Events)-1]
		if ev.Type != api.EventFailed {
			continue
		}
		p := matchFailure(InRecordEvent, ev.Message)
		if p == nil || p.Class != Permanent || !failedInARow(rec.Events, p) {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s (%s): %s: %s", rec.Id, recordWords(rec), ev.Message, p.Why))
	}
	if len(parts) == 0 {
		return "", false
	}
	sort.Strings(parts)
	return strings.Join(parts, "; "), true
}

// failedInARow reports whether the last p.Repeats events failed with
// messages p matches.
func failedInARow(events []api.RecordEvent, p *FailurePattern) bool {
	n := max(p.Repeats, 1)
	if len(events) < n {
		return false
	}
	for _, ev := range events[len(events)-n:] {
		if ev.Type != api.EventFailed || !p.Pattern.MatchString(ev.Message) {
			return false
		}
	}
	return true
}

// settled reports a record in the phase the controller drives it to.
func settled(p api.Phase, desired api.DesiredPhase) bool {
	switch desired {
	case api.DesiredRun:
		return p == api.PhaseInjected
	case api.DesiredStop:
		return p == api.PhaseNotInjected
	}
	return false
}

// recordWords says what a record's phase means for its target.
func recordWords(rec api.Record) string {
	switch rec.Phase {
	case api.PhaseNotInjected:
		if rec.InjectedCount == 0 {
			return "not yet injected"
		}
		return "recovered"
	case api.PhaseNotInjectedWait:
		if rec.InjectedCount == 0 {
			return "waiting for the daemon (Not Injected/Wait), never injected"
		}
		return "waiting for the daemon (Not Injected/Wait)"
	case api.PhaseInjected:
		return "still injected"
	case api.PhaseInjectedWait:
		return "still injected, waiting for the daemon to recover it (Injected/Wait)"
	}
	return "phase " + string(rec.Phase)
}

// plural returns "1 target", "2 targets", "2 entries".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if w, ok := strings.CutSuffix(word, "y"); ok {
		return fmt.Sprintf("%d %sies", n, w)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
