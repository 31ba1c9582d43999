package terraform

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// localLockFile is where the local backend writes its lock info next to
// the state.
const localLockFile = ".terraform.tfstate.lock.info"

// LockInfo describes a state lock.
type LockInfo struct {
	ID        string `json:"ID"`
	Operation string `json:"Operation"`
	Who       string `json:"Who"`
	Created   string `json:"Created"`
	// Path is where the backend keeps the locked state: the state file for
	// the local backend.
	Path string `json:"Path"`
	// Dir is the working directory the lock belongs to.
	Dir string `json:"-"`
	// Leftover is the local backend's lock info file that an interrupted
	// or killed terraform left behind; empty for a lock held by a run.
	Leftover string `json:"-"`
}

func (l *LockInfo) describe() string {
	var parts []string
	if l.ID != "" {
		parts = append(parts, "lock ID "+l.ID)
	}
	if l.Operation != "" {
		parts = append(parts, strings.TrimPrefix(l.Operation, "OperationType"))
	}
	if l.Who != "" {
		parts = append(parts, "by "+l.Who)
	}
	if l.Created != "" {
		parts = append(parts, "since "+l.Created)
	}
	return strings.Join(parts, ", ")
}

// local reports whether the lock is the local backend's, which the
// terraform process holds itself and which ends with it.
func (l *LockInfo) local() bool {
	if l.Leftover != "" {
		return true
	}
	if !strings.HasSuffix(l.Path, ".tfstate") {
		return false
	}
	p := l.Path
	if !filepath.IsAbs(p) {
		p = filepath.Join(l.Dir, p)
	}
	_, err := os.Stat(p)
	return err == nil
}

// Hint says what the lock means and how to remove it.
func (l *LockInfo) Hint() string {
	switch {
	case l.Leftover != "":
		return fmt.Sprintf("terraform left the local state lock info behind (%s); a local lock ends with its terraform process, so the next run proceeds; if no terraform runs in %s, delete %s", l.describe(), l.Dir, l.Leftover)
	case l.local():
		return fmt.Sprintf("another terraform run in %s holds the state lock (%s); wait for it to finish and run again", l.Dir, l.describe())
	}
	return fmt.Sprintf("the state is locked (%s); wait for the run holding it to finish, or when none does any more, unlock it with: terraform -chdir=%s force-unlock -force %s", l.describe(), l.Dir, l.ID)
}

// leftoverLocalLock reads the local backend's lock info file, which an
// interrupted or killed terraform leaves behind; nil when there is none.
func leftoverLocalLock(dir string) *LockInfo {
	file := filepath.Join(dir, localLockFile)
	b, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	l := &LockInfo{Dir: dir, Leftover: file}
	_ = json.Unmarshal(b, l) // a damaged file is still a leftover
	return l
}

// ErrStateLocked is matched (errors.Is) by a CommandError whose command
// could not acquire the state lock: another run holds it, or a killed one
// left it behind. Waiting and retrying may help.
var ErrStateLocked = errors.New("the state is locked")

var lockField = regexp.MustCompile(`(?m)^\s*(ID|Path|Operation|Who|Created):\s*(\S.*?)\s*$`)

// parseLockDiagnostic reads the lock info Terraform prints with "Error
// acquiring the state lock".
func parseLockDiagnostic(detail, dir string) *LockInfo {
	l := &LockInfo{Dir: dir}
	for _, m := range lockField.FindAllStringSubmatch(detail, -1) {
		switch m[1] {
		case "ID":
			l.ID = m[2]
		case "Path":
			l.Path = m[2]
		case "Operation":
			l.Operation = m[2]
		case "Who":
			l.Who = m[2]
		case "Created":
			l.Created = m[2]
		}
	}
	return l
}
