package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8sjson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"
)

// document is one YAML document or JSON value and the line it starts on.
type document struct {
	line int
	data []byte
}

// decode splits data into documents and turns each into objects. Empty
// documents (only comments or whitespace) are skipped and not counted.
func decode(name string, data []byte) ([]Object, error) {
	var docs []document
	var err error
	if isJSON(data) {
		docs, err = splitJSON(name, data)
	} else {
		docs, err = splitYAML(name, data)
	}
	if err != nil {
		return nil, err
	}
	maps, mapErrs := toMaps(name, docs)
	var objs []Object
	var errs []error
	n := 0
	for i, d := range docs {
		m, err := maps[i], mapErrs[i]
		if err != nil {
			errs = append(errs, err)
			n++
			continue
		}
		if m == nil {
			continue
		}
		n++
		o, err := objects(name, d.line, n, m)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		objs = append(objs, o...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return objs, nil
}

// toMaps parses the documents in parallel: large CRD files spend most of
// their load time converting YAML.
func toMaps(name string, docs []document) ([]map[string]any, []error) {
	maps := make([]map[string]any, len(docs))
	errs := make([]error, len(docs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(docs)) {
		wg.Go(func() {
			for i := range next {
				maps[i], errs[i] = toMap(name, docs[i])
			}
		})
	}
	for i := range docs {
		next <- i
	}
	close(next)
	wg.Wait()
	return maps, errs
}

func isJSON(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\r\n")
	return len(t) > 0 && t[0] == '{'
}

// splitYAML cuts data at "---" lines. Like kubectl, a separator may only be
// followed by spaces or a comment.
func splitYAML(name string, data []byte) ([]document, error) {
	var docs []document
	start, startLine := 0, 1
	line := 1
	for off := 0; off < len(data); {
		end := bytes.IndexByte(data[off:], '\n')
		next := len(data)
		if end >= 0 {
			next = off + end + 1
		}
		l := data[off:next]
		if rest, ok := bytes.CutPrefix(l, []byte("---")); ok {
			t := bytes.TrimSpace(rest)
			if len(t) > 0 && t[0] != '#' {
				return nil, errorf(fmt.Sprintf("%s:%d", name, line), "invalid document separator %q: only a comment may follow ---", strings.TrimSpace(string(l)))
			}
			docs = append(docs, document{line: startLine, data: data[start:off]})
			start, startLine = next, line+1
		}
		off = next
		line++
	}
	docs = append(docs, document{line: startLine, data: data[start:]})
	return docs, nil
}

// splitJSON reads a stream of JSON values.
func splitJSON(name string, data []byte) ([]document, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var docs []document
	for {
		var raw json.RawMessage
		before := dec.InputOffset()
		err := dec.Decode(&raw)
		if err == io.EOF {
			return docs, nil
		}
		if err != nil {
			off := before
			var se *json.SyntaxError
			if errors.As(err, &se) {
				off = se.Offset
			}
			return nil, errorf(fmt.Sprintf("%s:%d", name, lineAt(data, off)), "json: %v", err)
		}
		// before points at the end of the previous value; skip whitespace.
		start := before
		for start < int64(len(data)) && strings.ContainsRune(" \t\r\n", rune(data[start])) {
			start++
		}
		docs = append(docs, document{line: lineAt(data, start), data: raw})
	}
}

func lineAt(data []byte, off int64) int {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	return bytes.Count(data[:off], []byte("\n")) + 1
}

var yamlLine = regexp.MustCompile(`^(?:error converting YAML to JSON: )?yaml: line (\d+): (.*)$`)

// toMap parses one document; nil means the document is empty.
func toMap(name string, d document) (map[string]any, error) {
	j, err := yaml.YAMLToJSON(d.data)
	if err != nil {
		// The parser counts lines from the document start; report file lines.
		msg := err.Error()
		line := d.line
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			n, _ := strconv.Atoi(m[1])
			line, msg = d.line+n-1, "yaml: "+m[2]
		}
		return nil, errorf(fmt.Sprintf("%s:%d", name, line), "%s", msg)
	}
	var v any
	// k8s.io/apimachinery's decoder keeps integers as int64, as unstructured expects.
	if err := k8sjson.Unmarshal(j, &v); err != nil {
		return nil, errorf(fmt.Sprintf("%s:%d", name, d.line), "%v", err)
	}
	switch t := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return t, nil
	}
	return nil, errorf(fmt.Sprintf("%s:%d", name, d.line), "document is not an object (a mapping with apiVersion, kind and metadata)")
}

// objects checks one document and flattens it when it is a List.
func objects(name string, line, doc int, m map[string]any) ([]Object, error) {
	u := &unstructured.Unstructured{Object: m}
	if !isList(u) {
		if err := validate(u); err != nil {
			return nil, &Error{Origin: origin(name, line, doc, 0), Err: err}
		}
		return []Object{{Unstructured: u, Source: name, Doc: doc, Line: line}}, nil
	}
	items, _ := m["items"].([]any)
	itemKind := strings.TrimSuffix(u.GetKind(), "List")
	var objs []Object
	var errs []error
	for i, it := range items {
		where := origin(name, line, doc, i+1)
		im, ok := it.(map[string]any)
		if !ok {
			errs = append(errs, errorf(where, "list item is not an object"))
			continue
		}
		iu := &unstructured.Unstructured{Object: im}
		// Typed lists (ConfigMapList) may leave apiVersion and kind to the list.
		if u.GetKind() != "List" {
			if iu.GetAPIVersion() == "" {
				iu.SetAPIVersion(u.GetAPIVersion())
			}
			if iu.GetKind() == "" {
				iu.SetKind(itemKind)
			}
		}
		if isList(iu) {
			errs = append(errs, errorf(where, "a List inside a List is not supported"))
			continue
		}
		if err := validate(iu); err != nil {
			errs = append(errs, &Error{Origin: where, Err: err})
			continue
		}
		objs = append(objs, Object{Unstructured: iu, Source: name, Doc: doc, Line: line, Item: i + 1})
	}
	return objs, errors.Join(errs...)
}

// isList reports a v1 List or a typed list such as ConfigMapList: a kind
// ending in "List" whose only content is items.
func isList(u *unstructured.Unstructured) bool {
	if !strings.HasSuffix(u.GetKind(), "List") {
		return false
	}
	if _, ok := u.Object["items"]; !ok {
		return false
	}
	for k := range u.Object {
		switch k {
		case "apiVersion", "kind", "metadata", "items":
		default:
			return false
		}
	}
	return true
}

// validate checks what server-side apply needs to identify an object.
func validate(u *unstructured.Unstructured) error {
	if u.GetAPIVersion() == "" {
		return fmt.Errorf("missing apiVersion")
	}
	if u.GetKind() == "" {
		return fmt.Errorf("missing kind")
	}
	if md, ok := u.Object["metadata"]; ok {
		if _, ok := md.(map[string]any); !ok {
			return fmt.Errorf("%s: metadata is not an object", u.GetKind())
		}
	}
	if u.GetName() == "" {
		if u.GetGenerateName() != "" {
			return fmt.Errorf("%s: metadata.generateName cannot be applied; set metadata.name", u.GetKind())
		}
		return fmt.Errorf("%s: missing metadata.name", u.GetKind())
	}
	return nil
}
