package crash

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReport(t *testing.T) {
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	var err error
	func() {
		defer Recover(&err)
		panic("boom")
	}()
	var e *Error
	if !errors.As(err, &e) || e.Value != "boom" {
		t.Fatalf("Recover: %v", err)
	}
	msg := Report(e, []string{"graph", "my dir"})
	path := strings.TrimPrefix(msg, "internal error: this is a bug in stagescope; please report it with the details saved in ")
	if filepath.Dir(path) != filepath.Join(state, "stagescope") || strings.Contains(msg, "\n") {
		t.Fatalf("sentence %q", msg)
	}
	data, rerr := os.ReadFile(path)
	if rerr != nil {
		t.Fatal(rerr)
	}
	for _, want := range []string{"version: ", `command: stagescope graph "my dir"`, "panic: boom", "goroutine ", "crash_test.go"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("report lacks %q:\n%s", want, data)
		}
	}

	// A state folder that cannot be written: the OS's temporary folder.
	blocked := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocked, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_STATE_HOME", blocked)
	t.Setenv("TMPDIR", t.TempDir())
	path, werr := Write(e, nil)
	if werr != nil || filepath.Dir(path) != os.TempDir() {
		t.Errorf("fallback: %q %v", path, werr)
	}
}
