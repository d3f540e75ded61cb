// Package crash turns a panic into what a user of stagescope sees instead
// of a Go stack trace: one sentence saying it is a bug in stagescope, and a
// report file holding the details (the panic value, the stack, the version
// and the command line).
package crash

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"
)

// ExitCode is the process exit code after a panic: sysexits' EX_SOFTWARE,
// "internal software error".
const ExitCode = 70

// Error is a recovered panic.
type Error struct {
	// Value is what was passed to panic.
	Value any
	// Stack is the stack of the goroutine that panicked, taken in the
	// deferred function that recovered.
	Stack []byte
}

// New returns the Error for r, the value recover returned. Call it from the
// deferred function that recovered, so that Stack is the panicking one's.
func New(r any) *Error {
	if e, ok := r.(*Error); ok {
		return e
	}
	return &Error{Value: r, Stack: debug.Stack()}
}

func (e *Error) Error() string { return fmt.Sprintf("internal error: %v", e.Value) }

// Recover is deferred directly (defer crash.Recover(&err)): a panic of the
// function becomes *err.
func Recover(err *error) {
	if r := recover(); r != nil {
		*err = New(r)
	}
}

// Dir is where reports are written: $XDG_STATE_HOME/stagescope (default
// ~/.local/state/stagescope).
func Dir() string {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "stagescope")
}

// Write writes the report of e into Dir, or into the OS's temporary folder
// when Dir cannot be written, and returns the file's path.
func Write(e *Error, args []string) (string, error) {
	now := time.Now()
	var b strings.Builder
	fmt.Fprintf(&b, "stagescope internal error, %s\n\n", now.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "version: %s\n", version())
	fmt.Fprintf(&b, "command: stagescope %s\n", strings.Join(quoted(args), " "))
	fmt.Fprintf(&b, "panic: %v\n\n%s", e.Value, e.Stack)
	name := fmt.Sprintf("crash-%s-%d.txt", now.UTC().Format("20060102T150405"), os.Getpid())
	var err error
	for _, dir := range []string{Dir(), os.TempDir()} {
		if dir == "" {
			continue
		}
		if err = os.MkdirAll(dir, 0o700); err != nil {
			continue
		}
		path := filepath.Join(dir, name)
		if err = os.WriteFile(path, []byte(b.String()), 0o600); err == nil {
			return path, nil
		}
	}
	return "", err
}

// Sentence is what the user reads about e, the report at path (or the
// error writing it) included.
func Sentence(path string, werr error) string {
	if werr != nil {
		return fmt.Sprintf("internal error: this is a bug in stagescope, and its details could not be saved (%v)", werr)
	}
	return "internal error: this is a bug in stagescope; please report it with the details saved in " + path
}

// Report writes the report of e and returns the sentence for the user.
func Report(e *Error, args []string) string {
	return Sentence(Write(e, args))
}

func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision", "vcs.modified":
			v += " " + s.Key + "=" + s.Value
		}
	}
	return v + " " + bi.GoVersion
}

func quoted(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$") {
			a = fmt.Sprintf("%q", a)
		}
		out[i] = a
	}
	return out
}
