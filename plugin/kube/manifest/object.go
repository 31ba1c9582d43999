package manifest

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Object is one Kubernetes object read from a source, with its origin.
type Object struct {
	*unstructured.Unstructured

	// Source is the name of the source the object came from: the inline
	// source's name, the file path, or the URL without query string.
	Source string
	// Doc is the 1-based position of the object's document among the
	// non-empty YAML documents (or JSON values) of Source.
	Doc int
	// Line is the 1-based line of Source where the document starts, counted
	// in the rendered text when the source is a template.
	Line int
	// Item is the 1-based position of the object inside a List document, or
	// 0 when the document is not a List.
	Item int
}

// Origin says where the object came from, e.g. "app.yaml:14 (document 2)"
// or "app.yaml:14 (document 2, item 3)".
func (o Object) Origin() string {
	return origin(o.Source, o.Line, o.Doc, o.Item)
}

func origin(source string, line, doc, item int) string {
	s := source
	if line > 0 {
		s = fmt.Sprintf("%s:%d", s, line)
	}
	switch {
	case doc > 0 && item > 0:
		return fmt.Sprintf("%s (document %d, item %d)", s, doc, item)
	case doc > 0:
		return fmt.Sprintf("%s (document %d)", s, doc)
	}
	return s
}
