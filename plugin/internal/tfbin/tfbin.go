// Package tfbin gives tests the real terraform binary: $CHAOSOPS_TERRAFORM
// or terraform on PATH. Under -short the calling test is skipped.
package tfbin

import (
	"os"
	"os/exec"
	"testing"
)

// Path returns the terraform binary or fails the test with how to get one.
func Path(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: runs the terraform binary")
	}
	if p := os.Getenv("CHAOSOPS_TERRAFORM"); p != "" {
		return p
	}
	p, err := exec.LookPath("terraform")
	if err != nil {
		t.Fatalf("terraform is not on PATH (install Terraform >= 1.5, or set CHAOSOPS_TERRAFORM): %v", err)
	}
	return p
}
