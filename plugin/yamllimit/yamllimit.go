// Package yamllimit reads YAML with bounds, so that no file can make a
// reader grow without end: a size limit, a limit on the nodes a file holds
// and on the nodes its aliases add when expanded (an alias bomb), and a
// nesting limit. Every YAML reader of chaosops goes through it: blueprints
// and their imports, inputs and parameters files, values files, probes
// files, experiment settings, kubeconfigs and the local runner's secrets.
//
// Errors name the file, the line and the limit, never the content of the
// file: the YAML library's own messages quote values, and a file read by
// mistake (a secrets file imported as a blueprint) must not be echoed.
package yamllimit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Limits bound one YAML read.
type Limits struct {
	// MaxBytes bounds the size of the file.
	MaxBytes int
	// MaxNodes bounds the nodes the file holds as written.
	MaxNodes int
	// MaxAliasNodes bounds the nodes its aliases add when expanded.
	MaxAliasNodes int
	// MaxDepth bounds the nesting of mappings and lists, aliases expanded.
	MaxDepth int
}

// Default are the limits of every reader. The largest real files are the
// Chaos Mesh CRDs (3 MB) and the Argo CD install manifest (2 MB);
// blueprints add a few hundred nodes through dsl_definitions anchors
// (TestRealFilesPass reads them all). The limits leave room of five times
// that, while an alias bomb meets them within milliseconds.
var Default = Limits{
	MaxBytes:      16 << 20,
	MaxNodes:      2_000_000,
	MaxAliasNodes: 100_000,
	MaxDepth:      200,
}

// Error is a YAML file that cannot be read: a syntax error or a limit
// met. It never holds the file's content.
type Error struct {
	// File names the file as the caller gave it.
	File string
	// Line is the 1-based line of the construct at fault; 0 when unknown.
	Line int
	// Msg says what is wrong and, for a limit, which one.
	Msg string
	// bound is set for a limit met or a cycle, not a syntax error.
	bound bool
}

// Error returns "file:line: msg".
func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// Invalid reports true: the file must change.
func (e *Error) Invalid() bool { return true }

// ReadFile reads a file of at most Default.MaxBytes.
func ReadFile(path string) ([]byte, error) {
	return Default.ReadFile(path)
}

// ReadFile reads a file of at most l.MaxBytes, without reading further
// than that.
func (l Limits) ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, int64(l.MaxBytes)+1))
	if err != nil {
		return nil, err
	}
	if len(data) > l.MaxBytes {
		return nil, &Error{File: path, Msg: l.tooLarge(), bound: true}
	}
	return data, nil
}

func (l Limits) tooLarge() string {
	return fmt.Sprintf("the file is larger than the limit of %s for a YAML file", size(l.MaxBytes))
}

func size(n int) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Parse parses the first document of data into a node tree with the
// Default limits. An empty file gives an empty DocumentNode.
func Parse(name string, data []byte) (*yaml.Node, error) {
	return Default.Parse(name, data)
}

// Parse parses the first document of data, as yaml.Unmarshal does, and
// checks it against l.
func (l Limits) Parse(name string, data []byte) (*yaml.Node, error) {
	if len(data) > l.MaxBytes {
		return nil, &Error{File: name, Msg: l.tooLarge(), bound: true}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, wrap(name, err)
	}
	if err := l.Check(name, &doc); err != nil {
		return nil, err
	}
	return &doc, nil
}

// Unmarshal decodes the first document of data into v with the Default
// limits.
func Unmarshal(name string, data []byte, v any) error {
	return Default.Unmarshal(name, data, v)
}

// Unmarshal decodes the first document of data into v once the node tree
// passed l. An empty file leaves v unchanged.
func (l Limits) Unmarshal(name string, data []byte, v any) error {
	doc, err := l.Parse(name, data)
	if err != nil {
		return err
	}
	if len(doc.Content) == 0 {
		return nil
	}
	if err := doc.Decode(v); err != nil {
		return wrap(name, err)
	}
	return nil
}

// UnmarshalStrict is Unmarshal that also refuses keys v has no field
// for (yaml.Decoder.KnownFields).
func UnmarshalStrict(name string, data []byte, v any) error {
	if _, err := Parse(name, data); err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return wrap(name, err)
	}
	return nil
}

// CheckBytes parses data only to check it against the Default limits.
// Readers that decode with another library (sigs.k8s.io/yaml, client-go)
// call it first. A syntax error is left to that library: only a limit met
// is returned.
func CheckBytes(name string, data []byte) error {
	_, err := Parse(name, data)
	var e *Error
	if errors.As(err, &e) && e.limit() {
		return err
	}
	return nil
}

func (e *Error) limit() bool { return e.bound }

var (
	lineMsg   = regexp.MustCompile(`^line (\d+): (.*)$`)
	quotedVal = regexp.MustCompile(" `[^`]*`")
)

// wrap turns an error of yaml.v3 into an Error: the line moves into Line
// and the values the library quotes ("cannot unmarshal !!str `hunter2`")
// are dropped.
func wrap(name string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		var errs []error
		for _, m := range te.Errors {
			errs = append(errs, lineError(name, m, false))
		}
		return errors.Join(errs...)
	}
	return lineError(name, strings.TrimPrefix(err.Error(), "yaml: "), true)
}

// lineError moves "line N: " of a yaml.v3 message into Line; a syntax
// error says so.
func lineError(name, msg string, syntax bool) *Error {
	e := &Error{File: name, Msg: msg}
	if m := lineMsg.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = m[2]
	}
	e.Msg = quotedVal.ReplaceAllString(e.Msg, "")
	// The scanner's own nesting limit (10000) is a limit too.
	e.bound = strings.HasPrefix(e.Msg, "exceeded max depth")
	if syntax && !e.bound {
		e.Msg = "YAML syntax: " + e.Msg
	}
	return e
}
