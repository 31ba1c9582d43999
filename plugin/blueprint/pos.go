package blueprint

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Pos is a position in a blueprint file. Line and Col are 1-based; a zero
// Line means the position is unknown (built-in types have File "types.yaml").
type Pos struct {
	File      string
	Line, Col int
}

// String returns "file:line", or just the file when the line is unknown.
func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return p.File + ":" + strconv.Itoa(p.Line)
}

// Error is one problem found in a blueprint, with the position of the
// construct it is about. Its message names the construct first
// (e.g. `node_templates.web: unknown key "propertes"`).
type Error struct {
	Pos Pos
	Msg string
}

// Error returns "file:line: message".
func (e *Error) Error() string {
	if e.Pos.File == "" {
		return e.Msg
	}
	return e.Pos.String() + ": " + e.Msg
}

// ErrorList is every problem Load found, sorted by position. Load returns it
// as its error so that a linter can show all problems at once.
type ErrorList []*Error

// Error returns the problems one per line.
func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap gives errors.As and errors.Is access to each problem.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// errs collects problems while a blueprint is read. files is the order in
// which files were read: problems are sorted by file in that order, then by
// line.
type errs struct {
	list  ErrorList
	files []string
}

func (c *errs) compare(a, b Pos) int {
	fileIndex := func(f string) int {
		if i := slices.Index(c.files, f); i >= 0 {
			return i
		}
		return len(c.files)
	}
	return cmp.Or(cmp.Compare(fileIndex(a.File), fileIndex(b.File)), cmp.Compare(a.File, b.File),
		cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
}

func (c *errs) add(p Pos, format string, args ...any) {
	c.list = append(c.list, &Error{Pos: p, Msg: fmt.Sprintf(format, args...)})
}

// err returns the collected problems sorted and without repeats (an
// inherited operation is checked once per node that uses it), or nil.
func (c *errs) err() error {
	if len(c.list) == 0 {
		return nil
	}
	l := slices.Clone(c.list)
	slices.SortStableFunc(l, func(a, b *Error) int { return cmp.Or(c.compare(a.Pos, b.Pos), cmp.Compare(a.Msg, b.Msg)) })
	l = slices.CompactFunc(l, func(a, b *Error) bool { return *a == *b })
	return l
}
