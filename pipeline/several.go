package pipeline

import (
	"os"
	"path/filepath"
	"strings"
)

// LoadAll loads what a comparison of one or several Dockerfiles is given:
// the CONTEXT folders (dirs) and the -f Dockerfiles (files), with the
// other inputs of in applying to every one of them.
//
//   - No more than one folder and one file: the one project Load makes
//     (its Name is "").
//   - One folder without a Dockerfile whose subfolders have one (a folder
//     of examples): each such subfolder, in name order, is a project of
//     its own, its own build context.
//   - Several folders: each is its own build context with its own
//     Dockerfile, in the order given.
//   - Several files: each with the one context folder (default "."), in
//     the order given.
//
// With several Dockerfiles each project's Name is what the comparison
// calls it: the folder's name, or for a Dockerfile given with -f the name
// of its folder (FOLDER/FILE when it is not called Dockerfile); a name
// two of them would share is the path as given. A Dockerfile given twice
// is an error.
func LoadAll(in Input, dirs, files []string) ([]*Project, error) {
	switch {
	case len(dirs) > 1 && len(files) > 0:
		return nil, inputf("-f goes with one CONTEXT folder; with several folders each builds its own Dockerfile")
	case len(files) > 1:
		var one []string
		if len(dirs) == 1 {
			one = dirs
		}
		return loadEach(in, one, files)
	case len(dirs) > 1:
		return loadEach(in, dirs, nil)
	}
	single := in
	if len(dirs) == 1 {
		single.ContextDir = dirs[0]
	}
	if len(files) == 1 {
		single.File = files[0]
	}
	if len(dirs) == 1 && len(files) == 0 {
		if examples, err := Examples(dirs[0]); err != nil {
			return nil, err
		} else if len(examples) > 0 {
			return loadEach(in, examples, nil)
		}
	}
	p, err := Load(single)
	if err != nil {
		return nil, err
	}
	return []*Project{p}, nil
}

// Examples returns the subfolders of dir that have a Dockerfile, in name
// order, when dir is a folder without a Dockerfile of its own; nil when
// dir has a Dockerfile or is not a folder (Load says what is wrong then).
// A folder with neither is an error.
func Examples(dir string) ([]string, error) {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, nil
	}
	if _, err := os.Lstat(filepath.Join(dir, "Dockerfile")); err == nil {
		return nil, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, inputf("cannot read folder %s: %v", dir, err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		sub := filepath.Join(dir, e.Name())
		if st, err := os.Stat(sub); err != nil || !st.IsDir() {
			continue
		}
		if isFile(filepath.Join(sub, "Dockerfile")) {
			out = append(out, sub)
		}
	}
	if len(out) == 0 {
		return nil, inputf("%s has no Dockerfile, and none of its subfolders has one: give a build context, a Dockerfile with -f, or a folder of examples", dir)
	}
	return out, nil
}

// loadEach loads one project per folder (files nil) or per file (with the
// one folder of dirs, if any), and names them.
func loadEach(in Input, dirs, files []string) ([]*Project, error) {
	type item struct{ dir, file, name, path string }
	var items []item
	seen := map[string]string{}
	add := func(dir, file string) error {
		it := item{dir: dir, file: file}
		it.path = file
		if file == "" {
			it.path = filepath.Join(dir, "Dockerfile")
		}
		abs, err := filepath.Abs(it.path)
		if err != nil {
			abs = it.path
		}
		if first, ok := seen[abs]; ok {
			if first != it.path {
				return inputf("Dockerfile %s is given twice (also as %s)", it.path, first)
			}
			return inputf("Dockerfile %s is given twice", it.path)
		}
		seen[abs] = it.path
		folder := filepath.Base(absOr(filepath.Dir(it.path)))
		switch {
		case file == "":
			it.name = filepath.Base(absOr(dir))
		case filepath.Base(file) == "Dockerfile":
			it.name = folder
		default:
			it.name = folder + "/" + filepath.Base(file)
		}
		items = append(items, it)
		return nil
	}
	if files == nil {
		for _, d := range dirs {
			if err := add(d, ""); err != nil {
				return nil, err
			}
		}
	} else {
		dir := ""
		if len(dirs) == 1 {
			dir = dirs[0]
		}
		for _, f := range files {
			if err := add(dir, f); err != nil {
				return nil, err
			}
		}
	}
	count := map[string]int{}
	for _, it := range items {
		count[it.name]++
	}
	out := make([]*Project, 0, len(items))
	for _, it := range items {
		one := in
		one.ContextDir, one.File = it.dir, it.file
		p, err := Load(one)
		if err != nil {
			return nil, err
		}
		p.Name = it.name
		if count[it.name] > 1 {
			p.Name = filepath.Clean(it.path)
		}
		out = append(out, p)
	}
	return out, nil
}

func absOr(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
