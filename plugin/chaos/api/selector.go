package api

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Mode says how many of the pods matched by a selector an experiment affects.
type Mode string

// The selector modes.
const (
	// ModeOne affects one matched pod chosen at random.
	ModeOne Mode = "one"
	// ModeAll affects every matched pod.
	ModeAll Mode = "all"
	// ModeFixed affects Value (a whole number ≥ 1) pods chosen at random.
	ModeFixed Mode = "fixed"
	// ModeFixedPercent affects Value percent (1–100) of the matched pods,
	// rounded up, chosen at random.
	ModeFixedPercent Mode = "fixed-percent"
	// ModeRandomMaxPercent affects a random percentage between 0 and Value
	// (1–100) of the matched pods, rounded up.
	ModeRandomMaxPercent Mode = "random-max-percent"
)

// Modes lists the valid modes in documentation order.
var Modes = []Mode{ModeOne, ModeAll, ModeFixed, ModeFixedPercent, ModeRandomMaxPercent}

// PodSelectorSpec selects pods. All the given criteria must match; an empty
// selector matches every pod of the namespaces (Chaos Mesh's webhook
// defaults Namespaces to the experiment's own namespace).
type PodSelectorSpec struct {
	// Namespaces the pods must belong to.
	Namespaces []string `json:"namespaces,omitempty"`
	// LabelSelectors are labels the pods must carry.
	LabelSelectors map[string]string `json:"labelSelectors,omitempty"`
	// ExpressionSelectors are set-based label requirements.
	ExpressionSelectors []metav1.LabelSelectorRequirement `json:"expressionSelectors,omitempty"`
	// AnnotationSelectors are annotations the pods must carry.
	AnnotationSelectors map[string]string `json:"annotationSelectors,omitempty"`
	// FieldSelectors are pod fields that must have the given values, such
	// as "spec.nodeName" or "status.phase".
	FieldSelectors map[string]string `json:"fieldSelectors,omitempty"`
	// PodPhaseSelectors are the pod phases allowed (Pending, Running,
	// Succeeded, Failed, Unknown).
	PodPhaseSelectors []string `json:"podPhaseSelectors,omitempty"`
	// Nodes are the names of the nodes the pods must run on.
	Nodes []string `json:"nodes,omitempty"`
	// NodeSelectors are labels of the nodes the pods must run on.
	NodeSelectors map[string]string `json:"nodeSelectors,omitempty"`
	// Pods names pods explicitly: namespace to pod names. When set, the
	// other criteria are not used to list pods.
	Pods map[string][]string `json:"pods,omitempty"`
}

// PodSelector is the selector, mode and value shared by every kind.
type PodSelector struct {
	// Selector chooses the candidate pods.
	Selector PodSelectorSpec `json:"selector"`
	// Mode says how many candidates are affected.
	Mode Mode `json:"mode"`
	// Value is the number or percentage for the fixed, fixed-percent and
	// random-max-percent modes, as a string ("2", "50").
	Value string `json:"value,omitempty"`
}

// ContainerSelector is a PodSelector narrowed to some containers of each pod.
type ContainerSelector struct {
	PodSelector `json:",inline"`
	// ContainerNames are the affected containers; when empty, the first
	// container of each pod is affected.
	ContainerNames []string `json:"containerNames,omitempty"`
}

// CommonSpec holds the fields every kind has besides its selector.
type CommonSpec struct {
	// Duration is how long the experiment runs, from its creation, as a Go
	// duration ("30s", "5m"). Unset, it runs until deleted or paused.
	Duration *string `json:"duration,omitempty"`
	// RemoteCluster names a RemoteCluster object to run the experiment in;
	// the local controller ignores experiments that set it.
	RemoteCluster string `json:"remoteCluster,omitempty"`
}

// Common returns c; it lets every spec struct that embeds CommonSpec satisfy
// part of the Spec interface.
func (c *CommonSpec) Common() *CommonSpec { return c }

// Target is one selector of a spec as the controller iterates them: its pods
// (or containers) become the experiment's records.
type Target struct {
	// Key is the record's selectorKey: "." for the main selector,
	// ".Target" for NetworkChaos's target selector.
	Key string
	// Selector is the pod selector with its mode and value.
	Selector *PodSelector
	// PerContainer is true when each selected container is a record
	// ("namespace/pod/container"); otherwise each pod is ("namespace/pod").
	PerContainer bool
	// ContainerNames narrows PerContainer records to these containers
	// (empty: the first container of each pod).
	ContainerNames []string
}

func podTarget(s *PodSelector) []Target { return []Target{{Key: ".", Selector: s}} }

func containerTarget(s *ContainerSelector) []Target {
	return []Target{{Key: ".", Selector: &s.PodSelector, PerContainer: true, ContainerNames: s.ContainerNames}}
}
