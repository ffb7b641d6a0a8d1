// Command nodepki adds what the real node needs to the local PKI that localpki wrote: a client certificate for
// the kubelet (CN system:node:NAME, O system:nodes, so that the Node authorizer admits it; kubelet.kubeconfig),
// one for kube-scheduler (scheduler.kubeconfig) and one with which kube-apiserver talks to the kubelet (logs,
// exec). It signs with the CA in --dir and writes only what is missing.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

func main() {
	dir := flag.String("dir", "", "the PKI directory localpki wrote (ca.crt, ca.key)")
	server := flag.String("server", "https://127.0.0.1:16443", "API server URL written into the kubeconfig")
	node := flag.String("node", "", "the node's name")
	flag.Parse()
	if *dir == "" || *node == "" {
		fmt.Fprintln(os.Stderr, "nodepki: --dir and --node are required")
		os.Exit(2)
	}
	if err := run(*dir, *server, *node); err != nil {
		fmt.Fprintf(os.Stderr, "nodepki: %v\n", err)
		os.Exit(1)
	}
}

type keyPair struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func run(dir, server, node string) error {
	ca, err := load(dir, "ca")
	if err != nil {
		return fmt.Errorf("reading the CA (run localpki first): %w", err)
	}
	kubelet, err := loadOrCreate(dir, "kubelet", ca, pkix.Name{CommonName: "system:node:" + node, Organization: []string{"system:nodes"}})
	if err != nil {
		return err
	}
	if err := writeKubeconfig(filepath.Join(dir, "kubelet.kubeconfig"), server, ca, kubelet); err != nil {
		return err
	}
	scheduler, err := loadOrCreate(dir, "scheduler", ca, pkix.Name{CommonName: "system:kube-scheduler"})
	if err != nil {
		return err
	}
	if err := writeKubeconfig(filepath.Join(dir, "scheduler.kubeconfig"), server, ca, scheduler); err != nil {
		return err
	}
	_, err = loadOrCreate(dir, "apiserver-kubelet-client", ca, pkix.Name{CommonName: "kube-apiserver-kubelet-client", Organization: []string{"system:masters"}})
	return err
}

func load(dir, name string) (*keyPair, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, name+".crt"))
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, name+".key"))
	if err != nil {
		return nil, err
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, errors.New("unreadable PEM file; delete the directory to start over")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, err
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, err
	}
	return &keyPair{cert: cert, key: key}, nil
}

// loadOrCreate reads NAME.crt/NAME.key, or writes a client certificate for subject signed by ca when either is
// missing.
func loadOrCreate(dir, name string, ca *keyPair, subject pkix.Name) (*keyPair, error) {
	if kp, err := load(dir, name); err == nil {
		return kp, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, err
	}
	template := &x509.Certificate{
		SerialNumber: serial,
		Subject:      subject,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(5 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, name+".crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, name+".key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return nil, err
	}
	return &keyPair{cert: cert, key: key}, nil
}

func writeKubeconfig(path, server string, ca, client *keyPair) error {
	keyDER, err := x509.MarshalECPrivateKey(client.key)
	if err != nil {
		return err
	}
	enc := func(typ string, der []byte) string {
		return base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
	}
	content := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: probe-tuner-local
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: client
  user:
    client-certificate-data: %s
    client-key-data: %s
contexts:
- name: probe-tuner-local
  context:
    cluster: probe-tuner-local
    user: client
current-context: probe-tuner-local
`, server, enc("CERTIFICATE", ca.cert.Raw), enc("CERTIFICATE", client.cert.Raw), enc("EC PRIVATE KEY", keyDER))
	return os.WriteFile(path, []byte(content), 0o600)
}
