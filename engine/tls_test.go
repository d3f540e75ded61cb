package engine_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/testengine"
)

// pki writes a CA and a certificate signed by it for each name.
type pki struct {
	dir    string
	caKey  *ecdsa.PrivateKey
	caCert *x509.Certificate
}

func newPKI(t *testing.T, dir, name string) *pki {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	p := &pki{dir: dir, caKey: key, caCert: cert}
	p.write(t, name+"-ca.pem", "CERTIFICATE", der)
	return p
}

func (p *pki) write(t *testing.T, file, kind string, der []byte) string {
	t.Helper()
	path := filepath.Join(p.dir, file)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// issue returns cert and key files for a server (IP SAN 127.0.0.1) or client.
func (p *pki) issue(t *testing.T, name string, server bool) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return p.write(t, name+".pem", "CERTIFICATE", der), p.write(t, name+"-key.pem", "EC PRIVATE KEY", kder)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// A buildkitd on tcp://127.0.0.1 that requires client certificates: the
// right certificates connect and build; a wrong CA or no client certificate
// is one clear sentence.
func TestMutualTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	dir := t.TempDir()
	ca := newPKI(t, dir, "ca")
	serverCert, serverKey := ca.issue(t, "server", true)
	clientCert, clientKey := ca.issue(t, "client", false)
	newPKI(t, dir, "other") // a CA that signed nothing here

	addr := "tcp://127.0.0.1:" + strconv.Itoa(freePort(t))
	d := testengine.StartBuildkitd(t, addr,
		"--tlscacert", filepath.Join(dir, "ca-ca.pem"), "--tlscert", serverCert, "--tlskey", serverKey)

	good := engine.Options{Addr: addr, TLSCACert: filepath.Join(dir, "ca-ca.pem"), TLSCert: clientCert, TLSKey: clientKey, ProbeTimeout: 2 * time.Second}
	var e *engine.Engine
	deadline := time.Now().Add(60 * time.Second)
	for {
		var err error
		e, err = engine.Connect(context.Background(), good)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(d.Log)
			testengine.Unavailable(t, "mTLS buildkitd did not answer: %v\n%s", err, log)
		}
		time.Sleep(300 * time.Millisecond)
	}
	defer e.Close()
	req := project(t, map[string]string{"Dockerfile": "FROM scratch\nCOPY --from=busybox /bin/busybox /busybox\n"})
	if _, err := e.Build(context.Background(), req, nil); err != nil {
		t.Fatalf("build over mTLS: %v", err)
	}

	for name, opts := range map[string]engine.Options{
		"wrong CA":  {Addr: addr, TLSCACert: filepath.Join(dir, "other-ca.pem"), TLSCert: clientCert, TLSKey: clientKey},
		"no client": {Addr: addr, TLSCACert: filepath.Join(dir, "ca-ca.pem")},
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
