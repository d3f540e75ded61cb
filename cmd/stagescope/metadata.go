package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// writeMetadata writes the exporter response as a JSON object, the way
// `docker buildx build --metadata-file` does: values that are base64-encoded
// JSON (image descriptors) are decoded. The file appears whole or not at all.
func writeMetadata(path string, resp map[string]string) error {
	out := map[string]any{}
	for k, v := range resp {
		out[k] = v
		if strings.HasSuffix(k, ".descriptor") || strings.HasSuffix(k, "image.config") {
			if raw, err := base64.StdEncoding.DecodeString(v); err == nil && json.Valid(raw) {
				out[k] = json.RawMessage(raw)
			}
		}
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".metadata-*")
	if err != nil {
		return usagef("--metadata-file %s: %v", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}
