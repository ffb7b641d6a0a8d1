// Small static programs for the real node's images, and the tool that packs them into OCI image-layout tarballs
// (no Docker, no registry). Standard library only; apart from the operator's module.
module github.com/probetuner/probe-tuner/hack/nodeimages

go 1.26.0
