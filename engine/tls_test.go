package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/testengine"
)

// A buildkitd on tcp://127.0.0.1 that requires client certificates: the
// right certificates connect and build; a wrong CA or no client certificate
// is one clear sentence.
func TestMutualTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	d := testengine.StartMTLSBuildkitd(t)
	addr := d.Addr
	good := engine.Options{Addr: addr, TLSCACert: d.CACert, TLSCert: d.ClientCert, TLSKey: d.ClientKey, ProbeTimeout: 2 * time.Second}
	e, err := engine.Connect(context.Background(), good)
	if err != nil {
		t.Fatalf("connect over mTLS: %v", err)
	}
	defer e.Close()
	req := project(t, map[string]string{"Dockerfile": "FROM scratch\nCOPY --from=busybox /bin/busybox /busybox\n"})
	if _, err := e.Build(context.Background(), req, nil); err != nil {
		t.Fatalf("build over mTLS: %v", err)
	}

	for name, opts := range map[string]engine.Options{
		"wrong CA":  {Addr: addr, TLSCACert: d.OtherCA, TLSCert: d.ClientCert, TLSKey: d.ClientKey},
		"no client": {Addr: addr, TLSCACert: d.CACert},
	} {
		_, err := engine.Connect(context.Background(), opts)
		var u *engine.UnreachableError
		if !errors.As(err, &u) {
			t.Errorf("%s: err = %v (%T), want *UnreachableError", name, err, err)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, addr) {
			t.Errorf("%s: message %q", name, msg)
		} else {
			t.Logf("%s: %s", name, msg)
		}
	}
}
