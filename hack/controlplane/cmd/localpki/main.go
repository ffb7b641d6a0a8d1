// Command localpki writes the certificates, keys and kubeconfigs of the local control plane into a directory:
// a CA, the API server's serving certificate, client certificates for the admin and the controller manager, and
// the service-account signing key. It only writes what is missing, so `make cluster-up` is idempotent and a
// kubeconfig handed out earlier stays valid. With --node NAME it also writes what a real node needs (make cluster-up
// NODE=real): a client certificate for the kubelet (CN system:node:NAME, O system:nodes, so that the Node authorizer
// admits it; kubelet.kubeconfig), one for kube-scheduler (scheduler.kubeconfig) and one with which kube-apiserver
// talks to the kubelet (logs, exec; apiserver-kubelet-client, no kubeconfig).
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
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	dir := flag.String("dir", "", "directory to write the PKI into")
	server := flag.String("server", "https://127.0.0.1:16443", "API server URL written into the kubeconfigs")
	node := flag.String("node", "", "also write the certificates and kubeconfigs of a real node of this name")
	ips := flag.String("apiserver-ips", "", "comma-separated extra IP addresses of the API server's serving certificate "+
		"(a real node's pods reach it on the machine's own address); an existing certificate without them is reissued")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "localpki: --dir is required")
		os.Exit(2)
	}
	extra, err := parseIPs(*ips)
	if err != nil {
		fmt.Fprintf(os.Stderr, "localpki: --apiserver-ips: %v\n", err)
		os.Exit(2)
	}
	if err := run(*dir, *server, *node, extra); err != nil {
		fmt.Fprintf(os.Stderr, "localpki: %v\n", err)
		os.Exit(1)
	}
}

// client is a client certificate to write: NAME.crt/key for user (CN) in group (O), and NAME.kubeconfig unless
// noKubeconfig.
type client struct {
	name, user, group string
	noKubeconfig      bool
}

type keyPair struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// parseIPs reads a comma-separated list of IP addresses.
func parseIPs(list string) ([]net.IP, error) {
	var out []net.IP
	for _, f := range strings.Split(list, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		ip := net.ParseIP(f)
		if ip == nil {
			return nil, fmt.Errorf("%q is not an IP address", f)
		}
		out = append(out, ip)
	}
	return out, nil
}

func run(dir, server, node string, extraIPs []net.IP) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	ca, err := loadOrCreate(dir, "ca", func() (*x509.Certificate, *ecdsa.PrivateKey, error) {
		return newCert(&x509.Certificate{
			Subject:               pkix.Name{CommonName: "probe-tuner-local-ca"},
			IsCA:                  true,
			BasicConstraintsValid: true,
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		}, nil)
	})
	if err != nil {
		return err
	}
	serving, err := loadOrCreate(dir, "apiserver", func() (*x509.Certificate, *ecdsa.PrivateKey, error) {
		return apiserverCert(ca, extraIPs)
	})
	if err != nil {
		return err
	}
	if !coversIPs(serving.cert, extraIPs) {
		// Signed by the same CA, so kubeconfigs handed out earlier stay valid.
		cert, key, err := apiserverCert(ca, extraIPs)
		if err != nil {
			return err
		}
		if err := writePair(dir, "apiserver", cert, key); err != nil {
			return err
		}
	}
	clients := []client{
		{name: "admin", user: "admin", group: "system:masters"},
		{name: "controller-manager", user: "system:kube-controller-manager"},
	}
	if node != "" {
		clients = append(clients, []client{
			{name: "kubelet", user: "system:node:" + node, group: "system:nodes"},
			{name: "scheduler", user: "system:kube-scheduler"},
			{name: "apiserver-kubelet-client", user: "kube-apiserver-kubelet-client", group: "system:masters", noKubeconfig: true},
		}...)
	}
	for _, c := range clients {
		kp, err := loadOrCreate(dir, c.name, func() (*x509.Certificate, *ecdsa.PrivateKey, error) {
			subject := pkix.Name{CommonName: c.user}
			if c.group != "" {
				subject.Organization = []string{c.group}
			}
			return newCert(&x509.Certificate{
				Subject:     subject,
				KeyUsage:    x509.KeyUsageDigitalSignature,
				ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
			}, ca)
		})
		if err != nil {
			return err
		}
		if c.noKubeconfig {
			continue
		}
		if err := writeKubeconfig(filepath.Join(dir, c.name+".kubeconfig"), server, ca, kp); err != nil {
			return err
		}
	}
	return writeServiceAccountKey(dir)
}

// loadOrCreate reads NAME.crt/NAME.key from dir, creating them with create when either is missing.
func loadOrCreate(dir, name string, create func() (*x509.Certificate, *ecdsa.PrivateKey, error)) (*keyPair, error) {
	certPath, keyPath := filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	certPEM, certErr := os.ReadFile(certPath)
	keyPEM, keyErr := os.ReadFile(keyPath)
	if certErr == nil && keyErr == nil {
		return parsePair(certPEM, keyPEM)
	}
	cert, key, err := create()
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", name, err)
	}
	if err := writePair(dir, name, cert, key); err != nil {
		return nil, err
	}
	return &keyPair{cert: cert, key: key}, nil
}

// writePair writes NAME.crt and NAME.key into dir.
func writePair(dir, name string, cert *x509.Certificate, key *ecdsa.PrivateKey) error {
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, name+".crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name+".key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
}

// apiserverCert issues kube-apiserver's serving certificate: loopback, the kubernetes Service's names and
// ClusterIP, and the extra addresses.
func apiserverCert(ca *keyPair, extraIPs []net.IP) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	return newCert(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "kube-apiserver"},
		DNSNames:    []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
		IPAddresses: append([]net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.0.0.1")}, extraIPs...),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca)
}

// coversIPs reports whether the certificate names every one of the addresses.
func coversIPs(cert *x509.Certificate, ips []net.IP) bool {
	for _, want := range ips {
		found := false
		for _, have := range cert.IPAddresses {
			found = found || have.Equal(want)
		}
		if !found {
			return false
		}
	}
	return true
}

func parsePair(certPEM, keyPEM []byte) (*keyPair, error) {
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

// newCert signs template with signer's key, or self-signs it when signer is nil.
func newCert(template *x509.Certificate, signer *keyPair) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, nil, err
	}
	template.SerialNumber = serial
	template.NotBefore = time.Now().Add(-time.Hour)
	template.NotAfter = time.Now().Add(5 * 365 * 24 * time.Hour)
	parent, parentKey := template, key
	if signer != nil {
		parent, parentKey = signer.cert, signer.key
	}
	der, err := x509.CreateCertificate(rand.Reader, template, parent, &key.PublicKey, parentKey)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
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
- name: %s
  user:
    client-certificate-data: %s
    client-key-data: %s
contexts:
- name: probe-tuner-local
  context:
    cluster: probe-tuner-local
    user: %s
    namespace: default
current-context: probe-tuner-local
`, server, enc("CERTIFICATE", ca.cert.Raw), client.cert.Subject.CommonName, enc("CERTIFICATE", client.cert.Raw),
		enc("EC PRIVATE KEY", keyDER), client.cert.Subject.CommonName)
	return os.WriteFile(path, []byte(content), 0o600)
}

// writeServiceAccountKey writes the key pair that signs and verifies service-account tokens.
func writeServiceAccountKey(dir string) error {
	keyPath := filepath.Join(dir, "sa.key")
	if _, err := os.Stat(keyPath); err == nil {
		return nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "sa.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
}
