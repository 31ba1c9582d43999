package api

import (
	"encoding/json"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// ChaosStatus is the status every chaos kind shares.
type ChaosStatus struct {
	// Conditions summarise the records: Selected, AllInjected,
	// AllRecovered and Paused, each "True" or "False".
	Conditions []ChaosCondition `json:"conditions,omitempty"`
	// Experiment holds the desired phase and the per-target records.
	Experiment ExperimentStatus `json:"experiment"`
	// Instances is the kind-specific status.instances, kept as written by
	// the controller: a map of generations for HTTPChaos, IOChaos and
	// NetworkChaos, a map of stress instances for StressChaos.
	Instances json.RawMessage `json:"instances,omitempty"`
}

// ConditionType names a chaos condition.
type ConditionType string

// The conditions Chaos Mesh's controller maintains on every experiment.
const (
	// ConditionSelected is True once targets have been selected (records exist).
	ConditionSelected ConditionType = "Selected"
	// ConditionAllInjected is True when every record is Injected.
	ConditionAllInjected ConditionType = "AllInjected"
	// ConditionAllRecovered is True when every record is Not Injected.
	ConditionAllRecovered ConditionType = "AllRecovered"
	// ConditionPaused is True while the pause annotation is "true".
	ConditionPaused ConditionType = "Paused"
)

// ConditionTypes lists the condition types in a stable order.
var ConditionTypes = []ConditionType{ConditionSelected, ConditionAllInjected, ConditionAllRecovered, ConditionPaused}

// ChaosCondition is one entry of status.conditions.
type ChaosCondition struct {
	// Type is the condition's name.
	Type ConditionType `json:"type"`
	// Status is "True", "False" or "Unknown".
	Status corev1.ConditionStatus `json:"status"`
	// Reason is rarely set by Chaos Mesh.
	Reason string `json:"reason,omitempty"`
}

// DesiredPhase is what the controller drives the records towards.
type DesiredPhase string

// The desired phases.
const (
	// DesiredRun makes every record Injected.
	DesiredRun DesiredPhase = "Run"
	// DesiredStop makes every record Not Injected (duration over, paused
	// or deleted).
	DesiredStop DesiredPhase = "Stop"
)

// ExperimentStatus is status.experiment.
type ExperimentStatus struct {
	// DesiredPhase is Run or Stop; empty before the controller first saw
	// the object.
	DesiredPhase DesiredPhase `json:"desiredPhase,omitempty"`
	// Records has one entry per selected pod or container; nil until the
	// controller has selected targets.
	Records []Record `json:"containerRecords,omitempty"`
}

// Phase is the injection state of one record. Besides the two main phases,
// some kinds pass through intermediate phases named after them with a
// suffix, such as "Not Injected/Wait" and "Injected/Wait".
type Phase string

// The main record phases.
const (
	// PhaseNotInjected means the target is not (or no longer) injected.
	PhaseNotInjected Phase = "Not Injected"
	// PhaseInjected means the fault is in place on the target.
	PhaseInjected Phase = "Injected"
	// PhaseNotInjectedWait means the controller has handed the fault to
	// chaos-daemon (a Pod*Chaos child object) and waits for the daemon to
	// confirm it; the target is not yet injected (HTTPChaos, IOChaos,
	// NetworkChaos).
	PhaseNotInjectedWait Phase = "Not Injected/Wait"
	// PhaseInjectedWait is the same wait on the way back: the removal was
	// handed to chaos-daemon, the target is still injected.
	PhaseInjectedWait Phase = "Injected/Wait"
)

// Record tracks the injection of one target.
type Record struct {
	// Id is "namespace/pod" for pod-level kinds and
	// "namespace/pod/container" for container-level kinds.
	Id string `json:"id"`
	// SelectorKey is the Target.Key of the selector that chose it.
	SelectorKey string `json:"selectorKey"`
	// Phase is the injection state.
	Phase Phase `json:"phase"`
	// InjectedCount counts successful injections.
	InjectedCount int `json:"injectedCount"`
	// RecoveredCount counts successful recoveries.
	RecoveredCount int `json:"recoveredCount"`
	// Events are the latest injection and recovery attempts, oldest first.
	Events []RecordEvent `json:"events,omitempty"`
}

// RecordEventType is the outcome of an attempt.
type RecordEventType string

// The outcomes.
const (
	// EventSucceeded marks a successful attempt.
	EventSucceeded RecordEventType = "Succeeded"
	// EventFailed marks a failed attempt; the event's Message says why.
	EventFailed RecordEventType = "Failed"
)

// RecordOperation is what an attempt tried to do.
type RecordOperation string

// The operations.
const (
	// OperationApply injects the fault.
	OperationApply RecordOperation = "Apply"
	// OperationRecover removes the fault.
	OperationRecover RecordOperation = "Recover"
)

// RecordEvent is one injection or recovery attempt on a record.
type RecordEvent struct {
	// Type is Succeeded or Failed.
	Type RecordEventType `json:"type"`
	// Operation is Apply or Recover.
	Operation RecordOperation `json:"operation"`
	// Message says why an attempt failed.
	Message string `json:"message,omitempty"`
	// Timestamp is when the attempt ended; it must be set.
	Timestamp metav1.Time `json:"timestamp"`
}

// Condition returns the status of the condition t and whether it is present.
func (s *ChaosStatus) Condition(t ConditionType) (corev1.ConditionStatus, bool) {
	for _, c := range s.Conditions {
		if c.Type == t {
			return c.Status, true
		}
	}
	return "", false
}

// Condition returns the status ("True", "False") of obj's condition t and
// whether obj has it.
func Condition(obj *Object, t ConditionType) (status corev1.ConditionStatus, ok bool) {
	return obj.Status.Condition(t)
}

// ConditionOf is Condition for an object read with the dynamic client,
// without decoding the rest of it.
func ConditionOf(u *unstructured.Unstructured, t ConditionType) (status corev1.ConditionStatus, ok bool) {
	list, found, err := unstructured.NestedSlice(u.Object, "status", "conditions")
	if err != nil || !found {
		return "", false
	}
	for _, item := range list {
		c, isMap := item.(map[string]any)
		if !isMap || c["type"] != string(t) {
			continue
		}
		s, _ := c["status"].(string)
		return corev1.ConditionStatus(s), true
	}
	return "", false
}
