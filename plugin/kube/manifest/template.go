package manifest

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"text/template"
)

// render executes data as a text/template named name with values; a
// missing key is an error. Errors read "<name>:<line>: <message>".
func render(name string, data []byte, values map[string]any) ([]byte, error) {
	t, err := template.New(name).Option("missingkey=error").Parse(string(data))
	if err != nil {
		return nil, templateError(name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, values); err != nil {
		return nil, templateError(name, err)
	}
	return b.Bytes(), nil
}

// templateError turns text/template's "template: NAME:LINE[:COL]: MSG" into
// an *Error whose origin is "NAME:LINE". The name is known, so a name that
// contains colons (a URL) is no problem.
func templateError(name string, err error) error {
	msg := err.Error()
	rest, ok := strings.CutPrefix(msg, "template: "+name+":")
	if !ok {
		return &Error{Origin: name, Err: fmt.Errorf("template: %s", msg)}
	}
	lineStr, rest, _ := strings.Cut(rest, ":")
	line, convErr := strconv.Atoi(lineStr)
	if convErr != nil {
		return &Error{Origin: name, Err: fmt.Errorf("template: %s", msg)}
	}
	// Drop the column, if any, then the repeated template name.
	if col, after, ok := strings.Cut(rest, ":"); ok {
		if _, err := strconv.Atoi(col); err == nil {
			rest = after
		}
	}
	rest = strings.TrimSpace(rest)
	rest = strings.Replace(rest, fmt.Sprintf("executing %q ", name), "", 1)
	return &Error{Origin: fmt.Sprintf("%s:%d", name, line), Err: fmt.Errorf("template: %s", rest)}
}
