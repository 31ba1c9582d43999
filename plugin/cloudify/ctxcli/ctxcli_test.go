package ctxcli

import (
	"bytes"
	"strings"
	"testing"
)

// TestArguments checks what ctx does before it calls the proxy: help and
// bad arguments need no proxy.
func TestArguments(t *testing.T) {
	t.Setenv("CTX_SOCKET_URL", "")
	tests := []struct {
		name         string
		args         []string
		code         int
		stdout, errs string
	}{
		{"--help shows the usage", []string{"--help"}, exitOK, "usage: ctx [options] CALL...", ""},
		{"-h after an option shows the usage", []string{"-j", "-h"}, exitOK, "--json-output", ""},
		{"a timeout that is not a number is a usage error", []string{"-t", "soon", "node", "id"}, exitUsage, "", "-t needs a number of seconds"},
		{"a bad JSON argument is a usage error", []string{"instance", "runtime-properties", "k", "@{"}, exitUsage, "", "is not valid JSON"},
		{"no proxy is a failure naming the variable", []string{"node", "id"}, exitError, "", "CTX_SOCKET_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Main(t.Context(), tt.args, &out, &errb)
			if code != tt.code || !strings.Contains(out.String(), tt.stdout) || !strings.Contains(errb.String(), tt.errs) {
				t.Errorf("ctx %q: exit %d (want %d), stdout %q (want %q), stderr %q (want %q)", tt.args, code, tt.code, out.String(), tt.stdout, errb.String(), tt.errs)
			}
		})
	}
}
