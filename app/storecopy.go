package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/apppass/apppass/store"
)

// StoreCopy is `apppass store copy --to postgres://…`: it copies every
// table of the SQLite store from (APPPASS_DB) into the PostgreSQL
// database to, which it migrates first, and prints the rows copied per
// table. It refuses a target that holds any row and verifies the row
// counts; on any error nothing is written. Stop apppass before copying,
// so that nothing changes the SQLite file meanwhile.
func StoreCopy(ctx context.Context, from, to string, out io.Writer) error {
	if store.IsPostgres(from) {
		return errors.New("store copy: APPPASS_DB must be the SQLite file to copy from")
	}
	if !store.IsPostgres(to) {
		return errors.New("store copy: --to must be a postgres:// URL")
	}
	src, err := store.Open(ctx, from)
	if err != nil {
		return fmt.Errorf("store copy: open %s: %w", from, err)
	}
	defer src.Close()
	dst, err := store.Open(ctx, to)
	if err != nil {
		return fmt.Errorf("store copy: open the PostgreSQL database: %w", err)
	}
	defer dst.Close()
	copied, err := src.CopyTo(ctx, dst)
	if err != nil {
		return err
	}
	tables := make([]string, 0, len(copied))
	for t := range copied {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	for _, t := range tables {
		fmt.Fprintf(out, "%-24s %d rows\n", t, copied[t])
	}
	fmt.Fprintln(out, "copied; row counts verified. Point APPPASS_DB at the PostgreSQL URL and start apppass.")
	return nil
}
