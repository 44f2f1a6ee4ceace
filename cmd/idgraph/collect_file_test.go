package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestWriteFileStreamed: the file appears whole with mode 0600, or, when
// the writing fails, the file that was there is left as it was; no
// temporary file is left behind either way.
func TestWriteFileStreamed(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name    string
		write   func(io.Writer) error
		want    string // the file's contents afterwards
		wantErr error
	}{
		{"written", func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }, "new", nil},
		{"failed half way", func(w io.Writer) error { io.WriteString(w, "ne"); return boom }, "old", boom},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "out.json")
			if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
			err := writeFileStreamed(path, tc.write)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			b, rerr := os.ReadFile(path)
			if rerr != nil || string(b) != tc.want {
				t.Errorf("the file holds %q (%v), want %q", b, rerr, tc.want)
			}
			if fi, _ := os.Stat(path); tc.wantErr == nil && fi.Mode().Perm() != 0o600 {
				t.Errorf("mode %v, want 0600", fi.Mode().Perm())
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 1 {
				t.Errorf("the folder holds %d files, want only out.json", len(ents))
			}
		})
	}
}
