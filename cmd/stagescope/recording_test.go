package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stagescope/stagescope/internal/history"
	"github.com/stagescope/stagescope/internal/testengine"
)

// Two stagescope processes building at once both leave their records:
// each writes its record behind the build's outcome and exits once it is
// written.
func TestTwoProcessesRecordOnBuildKit(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	addr := testengine.BuildKit(t)
	bin := filepath.Join(t.TempDir(), "stagescope")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	state := t.TempDir()
	var cmds []*exec.Cmd
	outs := make([]bytes.Buffer, 2)
	for i := range 2 {
		dir := t.TempDir()
		df := fmt.Sprintf("FROM scratch AS one\nCOPY a.txt /\n\nFROM scratch\nCOPY --from=one /a.txt /b%d.txt\n", i)
		for name, data := range map[string]string{"Dockerfile": df, "a.txt": fmt.Sprint(i)} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command(bin, "build", dir, "--addr", addr, "--progress", "quiet")
		cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+state)
		cmd.Stdout, cmd.Stderr = &outs[i], &outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("build %d: %v\n%s", i, err, outs[i].String())
		}
	}
	cmd := exec.Command(bin, "history", "--format", "json")
	cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+state)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Records []history.Summary `json:"records"`
	}
	if err := json.Unmarshal(out, &list); err != nil || len(list.Records) != 2 {
		t.Fatalf("records %s (%v)", out, err)
	}
	for _, r := range list.Records {
		if r.Outcome != history.Succeeded || r.StepsTotal != 2 {
			t.Errorf("record %+v", r)
		}
	}
}
