package terraform

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"
)

// Result is what a command leaves behind. Fields a command does not
// produce are nil.
type Result struct {
	// Changes are the changes planned (plan) or planned and made (apply,
	// destroy).
	Changes *PlanSummary
	// State summarises the state after the command (apply, refresh,
	// output, destroy), without sensitive values.
	State *StateSummary
	// Sensitive holds the values of sensitive outputs. Store them with
	// WriteSecretFiles; never log them (they print as [sensitive]).
	Sensitive map[string]Secret
	// Lock is set when an interrupted or killed Terraform left its state
	// lock behind; Lock.Hint says how to remove it.
	Lock *LockInfo
}

// PlanSummary lists the resource addresses a plan adds, changes and
// destroys. A replaced resource is in both Add and Destroy, as Terraform
// counts it.
type PlanSummary struct {
	Add     []string `json:"add"`
	Change  []string `json:"change"`
	Destroy []string `json:"destroy"`
}

// record files one planned_change action of Terraform's JSON UI.
func (p *PlanSummary) record(action, addr string) {
	switch action {
	case "create":
		p.Add = append(p.Add, addr)
	case "delete":
		p.Destroy = append(p.Destroy, addr)
	case "replace":
		p.Add = append(p.Add, addr)
		p.Destroy = append(p.Destroy, addr)
	case "noop", "read", "":
		// Nothing changes: data sources are read on every run.
	default: // update, move, import, forget, remove: the resource stays
		p.Change = append(p.Change, addr)
	}
}

// normalize sorts the lists and removes duplicates.
func (p *PlanSummary) normalize() {
	for _, l := range []*[]string{&p.Add, &p.Change, &p.Destroy} {
		*l = append([]string{}, slices.Compact(slices.Sorted(slices.Values(*l)))...)
	}
}

// Empty reports whether the plan changes nothing.
func (p PlanSummary) Empty() bool {
	return len(p.Add) == 0 && len(p.Change) == 0 && len(p.Destroy) == 0
}

// Counts is Terraform's own wording: "1 to add, 0 to change, 2 to destroy".
func (p PlanSummary) Counts() string {
	return fmt.Sprintf("%d to add, %d to change, %d to destroy", len(p.Add), len(p.Change), len(p.Destroy))
}

// Lines lists one line per resource address, in address order, with
// Terraform's symbols: + create, ~ update, - destroy, -/+ replace.
func (p PlanSummary) Lines() []string {
	all := slices.Compact(slices.Sorted(slices.Values(slices.Concat(p.Add, p.Change, p.Destroy))))
	out := make([]string, 0, len(all))
	for _, a := range all {
		add, destroy := slices.Contains(p.Add, a), slices.Contains(p.Destroy, a)
		switch {
		case add && destroy:
			out = append(out, "-/+ "+a)
		case add:
			out = append(out, "+ "+a)
		case destroy:
			out = append(out, "- "+a)
		default:
			out = append(out, "~ "+a)
		}
	}
	return out
}

// String renders the counts followed by one line per address.
func (p PlanSummary) String() string {
	if p.Empty() {
		return "no changes"
	}
	return p.Counts() + ":\n  " + strings.Join(p.Lines(), "\n  ")
}

// StateSummary is the non-sensitive part of a state: which resources it
// holds and the values of its non-sensitive outputs.
type StateSummary struct {
	Resources []ResourceSummary `json:"resources"`
	// Outputs maps each non-sensitive output to its value.
	Outputs map[string]any `json:"outputs"`
	// SensitiveOutputs names the sensitive outputs; their values are in
	// Result.Sensitive only.
	SensitiveOutputs []string `json:"sensitive_outputs"`
}

// ResourceSummary is one resource instance of the state, without its
// attribute values.
type ResourceSummary struct {
	Address  string `json:"address"`
	Mode     string `json:"mode"` // managed or data
	Type     string `json:"type"`
	Name     string `json:"name"`
	Provider string `json:"provider"`
	// Tainted resources are replaced by the next apply, e.g. one whose
	// provisioner was interrupted.
	Tainted bool `json:"tainted,omitempty"`
}

// summarizeState splits a state (terraform show -json) into its summary
// and its sensitive output values.
func summarizeState(st *tfjson.State) (*StateSummary, map[string]Secret) {
	sum := &StateSummary{Resources: []ResourceSummary{}, Outputs: map[string]any{}, SensitiveOutputs: []string{}}
	secrets := map[string]Secret{}
	if st == nil || st.Values == nil {
		return sum, secrets
	}
	var walk func(m *tfjson.StateModule)
	walk = func(m *tfjson.StateModule) {
		if m == nil {
			return
		}
		for _, r := range m.Resources {
			sum.Resources = append(sum.Resources, ResourceSummary{
				Address: r.Address, Mode: string(r.Mode), Type: r.Type, Name: r.Name,
				Provider: r.ProviderName, Tainted: r.Tainted,
			})
		}
		for _, c := range m.ChildModules {
			walk(c)
		}
	}
	walk(st.Values.RootModule)
	sort.Slice(sum.Resources, func(i, j int) bool { return sum.Resources[i].Address < sum.Resources[j].Address })
	for name, o := range st.Values.Outputs {
		if o == nil {
			continue
		}
		if o.Sensitive {
			secrets[name] = newSecret(plainValue(o.Value))
			sum.SensitiveOutputs = append(sum.SensitiveOutputs, name)
			continue
		}
		sum.Outputs[name] = plainValue(o.Value)
	}
	sort.Strings(sum.SensitiveOutputs)
	return sum, secrets
}

// plainValue turns json.Number (show -json is decoded with UseNumber) into
// int64 or float64, so values compare and encode like any decoded JSON.
func plainValue(v any) any {
	switch t := v.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		if f, err := t.Float64(); err == nil {
			return f
		}
		return t.String()
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = plainValue(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = plainValue(e)
		}
		return out
	}
	return v
}

// Secret is the value of a sensitive output. It prints, logs and encodes
// as [sensitive]; Reveal gives the text to store.
type Secret struct{ text string }

const secretMask = "[sensitive]"

// newSecret keeps a string as it is and encodes anything else as JSON.
func newSecret(v any) Secret {
	if s, ok := v.(string); ok {
		return Secret{text: s}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return Secret{text: fmt.Sprint(v)}
	}
	return Secret{text: string(b)}
}

// Reveal returns the value: a string output as it is, any other value as
// JSON.
func (s Secret) Reveal() string { return s.text }

// String masks the value.
func (s Secret) String() string { return secretMask }

// GoString masks the value for %#v.
func (s Secret) GoString() string { return secretMask }

// MarshalJSON masks the value.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(secretMask) }

// LogValue masks the value in slog records.
func (s Secret) LogValue() slog.Value { return slog.StringValue(secretMask) }
