// Command ociimage writes a single-layer OCI image-layout tarball holding one static binary, for
// `ctr -n k8s.io images import`: the index carries io.containerd.image.name, so the image is known by --name.
//
//	ociimage --binary bin/k8s-node/pause --name localhost/pause:3.10 --out pause.tar
package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path"
	"runtime"
	"strings"
	"time"
)

type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

func main() {
	binary := flag.String("binary", "", "the static binary to put into the image")
	name := flag.String("name", "", "the image's name, e.g. localhost/probe-target:latest")
	inImage := flag.String("path", "", "the binary's path in the image (default /BASENAME); it is the entrypoint")
	out := flag.String("out", "", "the tarball to write")
	user := flag.String("user", "", "the image's user, UID[:GID] (numeric, so that runAsNonRoot can check it; default root)")
	flag.Parse()
	if *binary == "" || *name == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "ociimage: --binary, --name and --out are required")
		os.Exit(2)
	}
	if *inImage == "" {
		*inImage = "/" + path.Base(*binary)
	}
	if err := run(*binary, *name, *inImage, *out, *user); err != nil {
		fmt.Fprintf(os.Stderr, "ociimage: %v\n", err)
		os.Exit(1)
	}
}

func run(binary, name, inImage, out, user string) error {
	content, err := os.ReadFile(binary)
	if err != nil {
		return err
	}
	// A fixed time keeps the layer's digest a function of the binary alone.
	epoch := time.Unix(0, 0).UTC()
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	dirs := strings.Split(strings.Trim(path.Dir(inImage), "/"), "/")
	for i := range dirs {
		if dirs[i] == "" || dirs[i] == "." {
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: strings.Join(dirs[:i+1], "/") + "/", Mode: 0o755, ModTime: epoch}); err != nil {
			return err
		}
	}
	// /tmp and /etc exist in most images; programs and the kubelet (e.g. /etc/hosts) expect them.
	for _, d := range []string{"tmp/", "etc/"} {
		mode := int64(0o755)
		if d == "tmp/" {
			mode = 0o1777
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: mode, ModTime: epoch}); err != nil {
			return err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(inImage, "/"), Mode: 0o755, Size: int64(len(content)), ModTime: epoch}); err != nil {
		return err
	}
	if _, err := tw.Write(content); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	layerDesc, layerBlob := blob("application/vnd.oci.image.layer.v1.tar", layer.Bytes())

	imageConfig := map[string]any{"Entrypoint": []string{inImage}, "Env": []string{"PATH=/"}}
	if user != "" {
		imageConfig["User"] = user
	}
	config, err := json.Marshal(map[string]any{
		"architecture": runtime.GOARCH,
		"os":           "linux",
		"config":       imageConfig,
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{layerDesc.Digest}},
		"history":      []map[string]any{{"created_by": "ociimage " + path.Base(binary)}},
	})
	if err != nil {
		return err
	}
	configDesc, configBlob := blob("application/vnd.oci.image.config.v1+json", config)

	manifest, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        configDesc,
		"layers":        []descriptor{layerDesc},
	})
	if err != nil {
		return err
	}
	manifestDesc, manifestBlob := blob("application/vnd.oci.image.manifest.v1+json", manifest)
	tag := name
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		tag = name[i+1:]
	}
	manifestDesc.Annotations = map[string]string{
		"io.containerd.image.name":          name,
		"org.opencontainers.image.ref.name": tag,
	}
	index, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.index.v1+json",
		"manifests":     []descriptor{manifestDesc},
	})
	if err != nil {
		return err
	}

	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	ow := tar.NewWriter(f)
	files := []struct {
		name string
		data []byte
	}{
		{"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)},
		{"index.json", index},
		{blobPath(layerDesc), layerBlob},
		{blobPath(configDesc), configBlob},
		{blobPath(manifestDesc), manifestBlob},
	}
	for _, d := range []string{"blobs/", "blobs/sha256/"} {
		if err := ow.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755, ModTime: epoch}); err != nil {
			return err
		}
	}
	for _, file := range files {
		if err := ow.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: file.name, Mode: 0o644, Size: int64(len(file.data)), ModTime: epoch}); err != nil {
			return err
		}
		if _, err := ow.Write(file.data); err != nil {
			return err
		}
	}
	if err := ow.Close(); err != nil {
		return err
	}
	return f.Close()
}

func blob(mediaType string, data []byte) (descriptor, []byte) {
	sum := sha256.Sum256(data)
	return descriptor{MediaType: mediaType, Digest: "sha256:" + hex.EncodeToString(sum[:]), Size: int64(len(data))}, data
}

func blobPath(d descriptor) string {
	return "blobs/sha256/" + strings.TrimPrefix(d.Digest, "sha256:")
}
