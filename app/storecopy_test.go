package app_test

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apppass/apppass/app"
	"github.com/apppass/apppass/internal/testkit"
)

// `apppass store copy --to postgres://…` moves a used SQLite store to
// PostgreSQL, and apppass then runs on it with the pins, applications
// and audit trail it had.
func TestStoreCopyCommand(t *testing.T) {
	h := newHarness(t)
	h.DBPath = filepath.Join(t.TempDir(), "apppass.db")
	h.Env["APPPASS_DB"] = h.DBPath
	h.start()
	if h.SecretIn(h.Ask(alice, "create Phone")) == "" {
		t.Fatal("create failed")
	}
	if err := h.Stop(); err != nil {
		t.Fatal(err)
	}
	pg := testkit.PostgresSchema(t)
	env := func(k string) string { return map[string]string{"APPPASS_DB": h.DBPath}[k] }
	var out bytes.Buffer
	if err := app.Run(context.Background(), []string{"store", "copy", "--to", pg}, env, &out, io.Discard); err != nil {
		t.Fatalf("store copy: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "row counts verified") || !strings.Contains(out.String(), "users") {
		t.Errorf("store copy said:\n%s", out.String())
	}
	out.Reset()
	if err := app.Run(context.Background(), []string{"store", "copy", "--to", pg}, env, &out, io.Discard); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("a second copy into the same database: %v", err)
	}
}
