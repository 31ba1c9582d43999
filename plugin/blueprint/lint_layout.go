package blueprint

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// BundleFilesName is the file of a blueprint folder that lists what make
// bundle copies into the blueprint's archive besides the folder itself.
// Each line is "SOURCE DEST": SOURCE a file or folder relative to the
// blueprint folder (it may leave it, e.g. ../../terraform/aks), DEST its
// path inside the archive's folder (e.g. terraform/aks). Blank lines and
// lines starting with # are ignored. The file itself is not archived.
const BundleFilesName = "bundle.files"

// BundleFile is one line of bundle.files.
type BundleFile struct {
	Source, Dest string
	Pos          Pos
}

// ReadBundleFiles reads dir's bundle.files; a folder without one has none.
// Lines that cannot be used are returned as problems.
func ReadBundleFiles(dir string) ([]BundleFile, ErrorList) {
	file := filepath.Join(dir, BundleFilesName)
	f, err := os.Open(file)
	if os.IsNotExist(err) {
		return nil, nil
	}
	c := &errs{files: []string{file}}
	if err != nil {
		c.add(Pos{File: file}, "cannot read: %v", err)
		return nil, c.list
	}
	defer f.Close()
	var out []BundleFile
	seen := map[string]Pos{}
	s := bufio.NewScanner(f)
	for line := 1; s.Scan(); line++ {
		text := strings.TrimSpace(s.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		p := Pos{File: file, Line: line}
		fields := strings.Fields(text)
		if len(fields) != 2 {
			c.add(p, "expected \"SOURCE DEST\" (SOURCE relative to the blueprint folder, DEST inside the archive), got %q", text)
			continue
		}
		bf := BundleFile{Source: fields[0], Dest: filepath.ToSlash(filepath.Clean(fields[1])), Pos: p}
		switch {
		case !filepath.IsLocal(bf.Dest):
			c.add(p, "DEST %s must be a relative path inside the archive folder", fields[1])
			continue
		case bf.Dest == BundleFilesName:
			c.add(p, "DEST %s is the bundle.files list itself, which is not archived", fields[1])
			continue
		}
		if first, dup := seen[bf.Dest]; dup {
			c.add(p, "DEST %s is already listed at line %d", bf.Dest, first.Line)
			continue
		}
		seen[bf.Dest] = p
		if _, err := os.Stat(filepath.Join(dir, bf.Source)); err != nil {
			c.add(p, "SOURCE %s: %v", bf.Source, pathErr(err))
			continue
		}
		if _, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(bf.Dest))); err == nil {
			c.add(p, "DEST %s already exists in the blueprint folder; the copy would replace it: pick another DEST or remove the file", bf.Dest)
			continue
		}
		out = append(out, bf)
	}
	if err := s.Err(); err != nil {
		c.add(Pos{File: file}, "cannot read: %v", err)
	}
	return out, c.list
}

func pathErr(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

// layout answers what a blueprint folder holds once it is bundled: its own
// files (symbolic links followed, as the bundle dereferences them), the
// files the bundle adds (the executable and its launcher) and the copies
// bundle.files lists. For an unpacked archive it is the folder alone.
type layout struct {
	dir     string
	added   []string     // files the bundle writes, relative, slash-separated
	extra   []BundleFile // copies from bundle.files
	problem ErrorList
}

func newLayout(dir string, added []string, archive bool) *layout {
	l := &layout{dir: dir}
	if archive {
		return l
	}
	l.added = added
	extra, problems := ReadBundleFiles(dir)
	l.problem = problems
	for _, e := range extra {
		if slices.ContainsFunc(added, func(a string) bool { return a == e.Dest || strings.HasPrefix(a, e.Dest+"/") }) {
			l.problem = append(l.problem, &Error{Pos: e.Pos, Msg: fmt.Sprintf("DEST %s would replace what make bundle writes (%s); pick another DEST", e.Dest, strings.Join(added, ", "))})
			continue
		}
		l.extra = append(l.extra, e)
	}
	for _, a := range added {
		if _, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(a))); err == nil {
			l.problem = append(l.problem, &Error{Pos: Pos{File: filepath.Join(dir, filepath.FromSlash(a))},
				Msg: "make bundle writes this file into the archive; remove it from the blueprint folder"})
		}
	}
	return l
}

// stat returns what rel (a path relative to the blueprint folder) is in
// the bundled layout.
func (l *layout) stat(rel string) (fs.FileInfo, error) {
	rel = filepath.ToSlash(filepath.Clean(rel))
	if slices.Contains(l.added, rel) {
		return addedFile(rel), nil
	}
	for _, e := range l.extra {
		if rel == e.Dest || strings.HasPrefix(rel, e.Dest+"/") {
			return os.Stat(filepath.Join(l.dir, e.Source, filepath.FromSlash(strings.TrimPrefix(rel, e.Dest))))
		}
	}
	return os.Stat(filepath.Join(l.dir, filepath.FromSlash(rel)))
}

// readDir lists a folder of the bundled layout.
func (l *layout) readDir(rel string) ([]fs.DirEntry, error) {
	rel = filepath.ToSlash(filepath.Clean(rel))
	for _, e := range l.extra {
		if rel == e.Dest || strings.HasPrefix(rel, e.Dest+"/") {
			return os.ReadDir(filepath.Join(l.dir, e.Source, filepath.FromSlash(strings.TrimPrefix(rel, e.Dest))))
		}
	}
	return os.ReadDir(filepath.Join(l.dir, filepath.FromSlash(rel)))
}

// files lists the files the bundle adds to the folder (relative,
// slash-separated): what Load must treat as present.
func (l *layout) files() []string {
	out := slices.Clone(l.added)
	for _, e := range l.extra {
		src := filepath.Join(l.dir, e.Source)
		_ = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			rel, _ := filepath.Rel(src, p)
			out = append(out, filepath.ToSlash(filepath.Join(e.Dest, rel)))
			return nil
		})
	}
	return out
}

// addedFile is the FileInfo of a file the bundle writes.
type addedFile string

func (f addedFile) Name() string       { return filepath.Base(string(f)) }
func (f addedFile) Size() int64        { return 0 }
func (f addedFile) Mode() fs.FileMode  { return 0o755 }
func (f addedFile) ModTime() time.Time { return time.Time{} }
func (f addedFile) IsDir() bool        { return false }
func (f addedFile) Sys() any           { return nil }

// describeLayout says where a missing path was looked for.
func (l *layout) describe() string {
	if len(l.extra) == 0 && len(l.added) == 0 {
		return l.dir
	}
	return fmt.Sprintf("%s, its %s and what make bundle adds", l.dir, BundleFilesName)
}
