package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/probetuner/probe-tuner/internal/audit"
)

// stdinSource names the standard input in reports.
const stdinSource = "<stdin>"

// readSources decodes the workloads of every argument of -f, in order: "-" is stdin, a directory is every
// .yaml, .yml and .json file under it in lexical order, anything else a file.
func readSources(args []string, stdin io.Reader) ([]audit.Workload, error) {
	var out []audit.Workload
	for _, arg := range args {
		files, err := expand(arg)
		if err != nil {
			return nil, err
		}
		for _, file := range files {
			ws, err := readSource(file, stdin)
			if err != nil {
				return nil, err
			}
			out = append(out, ws...)
		}
	}
	return out, nil
}

// expand lists the files of one -f argument.
func expand(arg string) ([]string, error) {
	if arg == "-" {
		return []string{arg}, nil
	}
	info, err := os.Stat(arg)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{arg}, nil
	}
	var files []string
	err = filepath.WalkDir(arg, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ext := strings.ToLower(filepath.Ext(path)); !d.IsDir() && (ext == ".yaml" || ext == ".yml" || ext == ".json") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no .yaml, .yml or .json files", arg)
	}
	slices.Sort(files)
	return files, nil
}

func readSource(file string, stdin io.Reader) ([]audit.Workload, error) {
	if file == "-" {
		return audit.Decode(stdinSource, stdin)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return audit.Decode(file, f)
}
