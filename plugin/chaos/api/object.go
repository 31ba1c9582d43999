package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// Object is one chaos object of any of the Kinds.
type Object struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the kind-specific spec, e.g. *HTTPChaosSpec.
	Spec Spec `json:"spec"`
	// Status is written by the controller; it is left out of JSON when zero,
	// so that creating an object sends no status.
	Status ChaosStatus `json:"status,omitzero"`
}

// NewObject returns an object of spec's kind with the given namespace and
// name.
func NewObject(namespace, name string, spec Spec) *Object {
	return &Object{
		TypeMeta:   metav1.TypeMeta{APIVersion: GroupVersion.String(), Kind: spec.Kind()},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec:       spec,
	}
}

// UnmarshalJSON decodes an object, choosing the spec type from its kind.
// Unknown fields are ignored, as in Kubernetes clients; DecodeStrict
// rejects them.
func (o *Object) UnmarshalJSON(data []byte) error { return o.decode(data, false) }

// DecodeStrict decodes one object from JSON or YAML and rejects fields the
// kind does not have, so that a misspelt field is an error rather than a
// silently ignored setting.
func DecodeStrict(data []byte) (*Object, error) {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, err
	}
	o := &Object{}
	if err := o.decode(js, true); err != nil {
		return nil, err
	}
	return o, nil
}

// wireObject is an Object with the spec left undecoded.
type wireObject struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        json.RawMessage `json:"metadata"`
	Spec            json.RawMessage `json:"spec"`
	Status          json.RawMessage `json:"status"`
}

func (o *Object) decode(data []byte, strict bool) error {
	var w wireObject
	if err := unmarshal(data, &w, strict); err != nil {
		return err
	}
	k, ok := KindNamed(w.Kind)
	if !ok {
		return fmt.Errorf("kind %q is not a chaos kind this plugin supports (one of %s)", w.Kind, strings.Join(KindNames(), ", "))
	}
	out := Object{TypeMeta: w.TypeMeta, Spec: k.NewSpec()}
	parts := []struct {
		name string
		raw  json.RawMessage
		into any
	}{
		{"metadata", w.Metadata, &out.ObjectMeta},
		{"spec", w.Spec, out.Spec},
		{"status", w.Status, &out.Status},
	}
	for _, p := range parts {
		if len(p.raw) == 0 || bytes.Equal(p.raw, []byte("null")) {
			continue
		}
		if err := unmarshal(p.raw, p.into, strict); err != nil {
			return fmt.Errorf("%s %s: %w", w.Kind, p.name, err)
		}
	}
	*o = out
	return nil
}

func unmarshal(data []byte, into any, strict bool) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if strict {
		dec.DisallowUnknownFields()
	}
	return dec.Decode(into)
}

// ToUnstructured converts o for the dynamic client.
func ToUnstructured(o *Object) (*unstructured.Unstructured, error) {
	data, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	return u, nil
}

// FromUnstructured converts an object read with the dynamic client.
func FromUnstructured(u *unstructured.Unstructured) (*Object, error) {
	data, err := u.MarshalJSON()
	if err != nil {
		return nil, err
	}
	o := &Object{}
	if err := o.decode(data, false); err != nil {
		return nil, err
	}
	return o, nil
}
