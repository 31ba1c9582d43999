package main

import (
	"slices"
	"testing"
)

func TestPick(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		socket   string
		want     mode
		wantRest []string
	}{
		{"a symlink named ctx is the ctx CLI", []string{"/usr/bin/ctx", "node", "id"}, "http://s", ctxMode, []string{"node", "id"}},
		{"chaosops ctx is the ctx CLI", []string{"chaosops", "ctx", "-j", "node", "id"}, "", ctxMode, []string{"-j", "node", "id"}},
		{"no arguments and a socket is the operation", []string{"chaosops"}, "http://s", operationMode, nil},
		{"no arguments and no socket is the CLI's help", []string{"chaosops"}, "", cliMode, []string{"chaosops"}},
		{"arguments make the CLI even with a socket", []string{"chaosops", "version"}, "http://s", cliMode, []string{"chaosops", "version"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, rest := pick(tc.args, tc.socket)
			if got != tc.want || !slices.Equal(rest, tc.wantRest) {
				t.Errorf("pick(%q, %q) = %v, %q; want %v, %q", tc.args, tc.socket, got, rest, tc.want, tc.wantRest)
			}
		})
	}
}
