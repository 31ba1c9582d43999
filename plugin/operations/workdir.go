package operations

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cloudify-chaos/chaosops/plugin/cloudify/operation"
	"github.com/cloudify-chaos/chaosops/plugin/failure"
)

// The working folders the operations share: one per deployment (reports,
// Terraform workdirs) and the blueprint's files fetched for an operation.

// defaultWorkdir is the input workdir, or one folder per deployment and
// node under $CHAOSOPS_WORKDIR (default ~/.chaosops/work).
func defaultWorkdir(ctx context.Context, op *operation.Op) (string, error) {
	if dir := op.Inputs.String("workdir", ""); dir != "" {
		if !filepath.IsAbs(dir) {
			return "", failure.Invalidf("workdir", "%s is relative: the state would land in the operation's temporary working folder and be lost; give an absolute path, or leave it unset for $CHAOSOPS_WORKDIR/<deployment>/<node>", dir)
		}
		return dir, nil
	}
	dep, err := deploymentDir(ctx, op)
	if err != nil {
		return "", err
	}
	node, err := op.Ctx.NodeID(ctx)
	if err != nil {
		return "", fmt.Errorf("read the node id: %w", err)
	}
	if err := checkFolderID(node); err != nil {
		return "", err
	}
	return filepath.Join(dep, node), nil
}

// deploymentDir is the deployment's working directory:
// $CHAOSOPS_WORKDIR/<deployment> (default ~/.chaosops/work/<deployment>).
func deploymentDir(ctx context.Context, op *operation.Op) (string, error) {
	root := os.Getenv("CHAOSOPS_WORKDIR")
	if root == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no home folder (%v); set CHAOSOPS_WORKDIR", err)
		}
		root = filepath.Join(home, ".chaosops", "work")
	}
	dep, err := op.Ctx.DeploymentID(ctx)
	if err != nil {
		return "", fmt.Errorf("read the deployment id: %w", err)
	}
	if err := checkFolderID(dep); err != nil {
		return "", err
	}
	return filepath.Join(root, dep), nil
}

// checkFolderID refuses ids that cannot safely name a folder.
func checkFolderID(id string) error {
	if id == "" || id == "." || id == ".." || strings.ContainsAny(id, `/\`) {
		return fmt.Errorf("cannot derive a folder from the id %q; set workdir (terraform) or report_dir (chaos)", id)
	}
	return nil
}

// blueprintFile resolves a path input: URLs and absolute paths are used as
// they are, anything else is a file of the blueprint fetched into dir.
func blueprintFile(ctx context.Context, op *operation.Op, field, v, dir string) (string, error) {
	if v == "" || strings.Contains(v, "://") || filepath.IsAbs(v) {
		return v, nil
	}
	target := filepath.Join(dir, field+"-"+filepath.Base(v))
	path, err := op.Ctx.DownloadResource(ctx, v, target)
	if err != nil {
		if ctx.Err() != nil {
			return "", err
		}
		return "", &failure.InvalidError{Field: field, Err: fmt.Errorf("%s is not a file of the blueprint (%v); give a file inside the blueprint archive (a chart packaged as .tgz), an absolute path on the manager, or an https URL", v, err)}
	}
	return path, nil
}
