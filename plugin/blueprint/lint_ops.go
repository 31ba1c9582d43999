package blueprint

import (
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// operations checks every operation, of nodes and of their relationships,
// whose implementation runs the executable.
func (k *check) operations() {
	for _, name := range k.bp.NodeOrder {
		n := k.bp.Nodes[name]
		k.interfaces(n.Interfaces, Scope{Self: name}, n.Properties)
		for _, r := range n.Relationships {
			s := Scope{Source: name, Target: r.Target}
			k.interfaces(r.SourceInterfaces, s, nil)
			k.interfaces(r.TargetInterfaces, s, nil)
		}
	}
}

func (k *check) interfaces(ifaces ifaceMap, s Scope, props map[string]any) {
	for _, iface := range sortedKeys(ifaces) {
		for _, name := range sortedKeys(ifaces[iface]) {
			if op := ifaces[iface][name]; k.runsExecutable(op) {
				k.executableOperation(op, s, props)
			}
		}
	}
}

func (k *check) runsExecutable(op *Operation) bool {
	return op.Kind == ImplScript && slices.Contains(k.opt.Catalog.Implementations, filepath.ToSlash(filepath.Clean(op.Implementation)))
}

// handler returns the registered operation an operation of the executable
// runs, as the executable picks it: the operation-name input when given,
// else the operation's own name, which a lifecycle operation cannot use.
func (k *check) handler(op *Operation, s Scope) (string, bool) {
	in := k.opt.Catalog.OperationInput
	if raw, given := op.Inputs[in]; given && raw != nil {
		name, ok := k.staticString(raw, s)
		switch {
		case !ok && len(Functions(raw)) > 0:
			return "", false // known at run time only
		case !ok:
			k.problems.add(op.Pos, "operation %s: input %s must be the name of an operation of %s, got %s", op.FullName(), in, op.Implementation, show(raw))
			return "", false
		case name != "":
			return name, true
		}
	}
	if strings.HasPrefix(op.Interface, "cloudify.interfaces.") {
		k.problems.add(op.Pos, "operation %s runs %s but does not say which operation: give the input %s (e.g. %s: kubernetes.apply)",
			op.FullName(), op.Implementation, in, in)
		return "", false
	}
	return op.FullName(), true
}

// executableOperation checks the operation's name, its inputs and the
// archive paths they name.
func (k *check) executableOperation(op *Operation, s Scope, props map[string]any) {
	name, ok := k.handler(op, s)
	if !ok {
		return
	}
	spec, known := k.opt.Catalog.Operations[name]
	if !known {
		k.problems.add(op.Pos, "operation %s: %q is not an operation of %s%s", op.FullName(), name, op.Implementation,
			suggest(name, sortedKeys(k.opt.Catalog.Operations)))
		return
	}
	where := "operation " + op.FullName()
	if name != op.FullName() {
		where += " (" + name + ")"
	}
	for _, in := range sortedKeys(op.Inputs) {
		if !slices.Contains(spec.Inputs, in) {
			k.problems.add(op.Pos, "%s: unknown input %q%s", where, in, suggest(in, spec.Inputs))
		}
	}
	for _, in := range sortedKeys(spec.Resources) {
		kind := spec.Resources[in]
		raw, given := op.Inputs[in]
		if !given && kind == ResourceFiles {
			raw, given = props[in]
		}
		v, ok := k.static(raw, s)
		if !given || !ok || v == nil {
			continue
		}
		if other, isName := spec.NameWith[in]; isName {
			if ov, ok := k.static(op.Inputs[other], s); ok && ov != nil && ov != "" {
				continue
			}
		}
		switch kind {
		case ResourceFiles:
			for _, p := range splitList(v) {
				k.archivePath(op, where+": input "+in, p, ResourceFiles)
			}
		case ResourceDir, ResourcePath:
			if p, isStr := v.(string); isStr {
				k.archivePath(op, where+": input "+in, p, kind)
			}
		case ResourceTerraformModule:
			if p, isStr := v.(string); isStr {
				k.terraformModule(op, s, spec, where+": input "+in, p)
			}
		}
	}
}

// archivePath reports a relative path the archive will not hold. Absolute
// paths (on the manager) and URLs are not the archive's business.
func (k *check) archivePath(op *Operation, where, p string, kind Resource) bool {
	if p == "" || filepath.IsAbs(p) || strings.Contains(p, "://") {
		return false
	}
	if !filepath.IsLocal(p) {
		k.problems.add(op.Pos, "%s: %s leaves the blueprint folder; only the folder is archived: list the file in %s to copy it in", where, p, BundleFilesName)
		return false
	}
	info, err := k.layout.stat(p)
	switch {
	case err != nil:
		k.problems.add(op.Pos, "%s: %s is not in the blueprint archive (looked in %s): add it, or copy it in with a line of %s",
			where, p, k.layout.describe(), BundleFilesName)
		return false
	case kind != ResourceFiles && kind != ResourcePath && !info.IsDir():
		k.problems.add(op.Pos, "%s: %s is a file; a folder is expected", where, p)
		return false
	case kind == ResourceFiles && info.IsDir():
		k.problems.add(op.Pos, "%s: %s is a folder; list its files", where, p)
		return false
	}
	return true
}

// terraformModule checks that the files the terraform operations fetch
// from the module folder (module_files) are there, and that none of the
// module's .tf files is left behind: download-resource serves one file at
// a time, so a file not listed never reaches terraform.
func (k *check) terraformModule(op *Operation, s Scope, spec OperationSpec, where, module string) {
	if !k.archivePath(op, where, module, ResourceTerraformModule) {
		return
	}
	const listInput = "module_files"
	var listed []string
	if raw, given := op.Inputs[listInput]; given {
		v, ok := k.static(raw, s)
		if !ok {
			return
		}
		listed = splitList(v)
	} else {
		listed = splitList(spec.Defaults[listInput])
	}
	found := 0
	for _, f := range listed {
		if _, err := k.layout.stat(path.Join(module, f)); err == nil {
			found++
		} else if f == "main.tf" {
			k.problems.add(op.Pos, "%s: %s/main.tf is not in the blueprint archive", where, module)
		}
	}
	if found == 0 && len(listed) > 0 {
		k.problems.add(op.Pos, "%s: none of the %s (%s) is in %s", where, listInput, strings.Join(listed, ", "), module)
	}
	entries, err := k.layout.readDir(module)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if (strings.HasSuffix(name, ".tf") || strings.HasSuffix(name, ".tf.json")) && !slices.Contains(listed, name) {
			k.problems.add(op.Pos, "%s: %s/%s is never fetched: %s lists only %s; add it there", where, module, name, listInput, strings.Join(listed, ", "))
		}
	}
}
