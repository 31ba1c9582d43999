package manifest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cloudify-chaos/chaosops/plugin/download"
)

// DefaultMaxBytes bounds the size of one file or download when
// Options.MaxBytes is zero.
const DefaultMaxBytes = 64 << 20

// Source names one place to read manifests from. Set exactly one of Inline,
// Path or URL.
type Source struct {
	// Name labels an Inline source in errors and results; default "inline".
	// Path and URL sources are named by their path and URL.
	Name string
	// Inline is YAML (one or more documents) or JSON text.
	Inline string
	// Path is a file, or a directory read recursively in lexical order,
	// taking the files whose names end in .yaml, .yml or .json.
	Path string
	// URL is an https:// address. It is fetched with TLS verified and only
	// when SHA256 is set; the content must match it.
	URL string
	// SHA256 is the hex SHA-256 digest of the content at URL (an optional
	// "sha256:" prefix is accepted).
	SHA256 string
}

// Options tunes Load.
type Options struct {
	// Values, when non-nil, renders every source as a Go text/template with
	// these values before parsing; a missing key is an error. When nil the
	// text is parsed as is and "{{" has no special meaning.
	Values map[string]any
	// Download fetches URL sources: TLS verified against the system's
	// trusted roots unless Download.Client says otherwise, each attempt
	// bounded, transient failures retried (see package download). Its
	// MaxBytes is MaxBytes.
	Download download.Options
	// MaxBytes bounds the size of one file or download; default
	// DefaultMaxBytes.
	MaxBytes int64
}

// Load reads the sources in order and returns their objects in order. An
// error lists every problem found (each an *Error naming its origin); no
// objects are returned with it.
func Load(ctx context.Context, sources []Source, opts Options) ([]Object, error) {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	var objs []Object
	var errs []error
	for i, src := range sources {
		files, err := read(ctx, i, src, opts)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, f := range files {
			o, err := Parse(f.name, f.data, opts.Values)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			objs = append(objs, o...)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return objs, nil
}

// Parse renders data as a template when values is non-nil, then decodes it.
// name labels the objects and errors.
func Parse(name string, data []byte, values map[string]any) ([]Object, error) {
	if values != nil {
		var err error
		if data, err = render(name, data, values); err != nil {
			return nil, err
		}
	}
	return decode(name, data)
}

type file struct {
	name string
	data []byte
}

// read returns the raw contents of one source: one file, or for a directory
// every manifest file under it.
func read(ctx context.Context, i int, src Source, opts Options) ([]file, error) {
	set := 0
	for _, s := range []string{src.Inline, src.Path, src.URL} {
		if s != "" {
			set++
		}
	}
	if set != 1 {
		return nil, errorf(fmt.Sprintf("source %d", i+1), "set exactly one of inline, path or url")
	}
	switch {
	case src.Inline != "":
		name := src.Name
		if name == "" {
			name = "inline"
		}
		return []file{{name: name, data: []byte(src.Inline)}}, nil
	case src.URL != "":
		dl := opts.Download
		dl.MaxBytes = opts.MaxBytes
		data, name, err := fetch(ctx, src.URL, src.SHA256, dl)
		if err != nil {
			return nil, err
		}
		return []file{{name: name, data: data}}, nil
	}
	return readPath(src.Path, opts.MaxBytes)
}

// readPath reads a file, or the manifest files of a directory tree in
// lexical order (filepath.WalkDir's order).
func readPath(path string, maxBytes int64) ([]file, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, errorf(path, "%w", unwrapPathError(err))
	}
	if !info.IsDir() {
		data, err := readFile(path, maxBytes)
		if err != nil {
			return nil, err
		}
		return []file{{name: path, data: data}}, nil
	}
	var files []file
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return errorf(p, "%w", unwrapPathError(err))
		}
		if d.IsDir() || !isManifestFile(p) {
			return nil
		}
		data, err := readFile(p, maxBytes)
		if err != nil {
			return err
		}
		files = append(files, file{name: p, data: data})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, errorf(path, "directory has no .yaml, .yml or .json files")
	}
	return files, nil
}

func isManifestFile(p string) bool {
	switch strings.ToLower(filepath.Ext(p)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

func readFile(path string, maxBytes int64) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, errorf(path, "%w", unwrapPathError(err))
	}
	if info.Size() > maxBytes {
		return nil, errorf(path, "file is %d bytes, more than the limit of %d", info.Size(), maxBytes)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, errorf(path, "%w", unwrapPathError(err))
	}
	return data, nil
}

// unwrapPathError drops the path from *fs.PathError, since Error.Origin
// already names it.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
