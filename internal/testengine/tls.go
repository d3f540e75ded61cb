package testengine

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// PKI is a certificate authority whose files are in a test's folder.
type PKI struct {
	// CACert is the CA certificate's file.
	CACert string
	dir    string
	caKey  *ecdsa.PrivateKey
	caCert *x509.Certificate
}

// NewPKI writes a CA named name (NAME-ca.pem) into dir.
func NewPKI(t testing.TB, dir, name string) *PKI {
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
	p := &PKI{dir: dir, caKey: key, caCert: cert}
	p.CACert = p.write(t, name+"-ca.pem", "CERTIFICATE", der)
	return p
}

func (p *PKI) write(t testing.TB, file, kind string, der []byte) string {
	t.Helper()
	path := filepath.Join(p.dir, file)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Issue returns the certificate and key files of a server (IP SAN
// 127.0.0.1) or client certificate named name, signed by the CA.
func (p *PKI) Issue(t testing.TB, name string, server bool) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
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
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, &k.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return p.write(t, name+".pem", "CERTIFICATE", der), p.write(t, name+"-key.pem", "EC PRIVATE KEY", kder)
}

// FreePort returns a TCP port of 127.0.0.1 that nothing listens on now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// MTLS is a throwaway buildkitd on tcp://127.0.0.1 that requires client
// certificates of its CA.
type MTLS struct {
	*Daemon
	// The CA, and the client's certificate and key, files.
	CACert, ClientCert, ClientKey string
	// Dir holds the files (and OtherCA, a CA that signed nothing here).
	Dir, OtherCA string
}

// StartMTLSBuildkitd starts a buildkitd over tcp+mTLS, with its
// certificates, and waits until it answers; it is stopped when the test
// ends.
func StartMTLSBuildkitd(t testing.TB) *MTLS {
	t.Helper()
	dir := t.TempDir()
	ca := NewPKI(t, dir, "ca")
	serverCert, serverKey := ca.Issue(t, "server", true)
	clientCert, clientKey := ca.Issue(t, "client", false)
	other := NewPKI(t, dir, "other")
	addr := "tcp://127.0.0.1:" + strconv.Itoa(FreePort(t))
	d := StartBuildkitd(t, addr, "--tlscacert", ca.CACert, "--tlscert", serverCert, "--tlskey", serverKey)
	m := &MTLS{Daemon: d, CACert: ca.CACert, ClientCert: clientCert, ClientKey: clientKey, Dir: dir, OtherCA: other.CACert}
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := exec.Command(Buildctl(t), "--addr", addr, "--tlscacert", m.CACert, "--tlscert", clientCert, "--tlskey", clientKey, "debug", "workers").CombinedOutput()
		if err == nil {
			return m
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(d.Log)
			Unavailable(t, "mTLS buildkitd did not answer: %v %s\n%s", err, out, log)
		}
		time.Sleep(300 * time.Millisecond)
	}
}
