package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/apppass/apppass/store"
	"github.com/spf13/cobra"
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

// storeCommand is `apppass store copy --to URL`.
func storeCommand(env commandEnv) *cobra.Command {
	store := &cobra.Command{
		Use:   "store",
		Short: "Move apppass's records between databases",
	}
	var to string
	cp := &cobra.Command{
		Use:   "copy --to postgres://…",
		Short: "Copy every table from the SQLite file APPPASS_DB to an empty PostgreSQL database",
		Long: `Copy every table (pinned Slack and Entra ids, which applications are apppass's, the audit
trail, revocations, the gateway's records) from the SQLite file named by APPPASS_DB (default
./apppass.db) to the PostgreSQL database at --to, in one transaction. The target must be empty;
row counts are verified afterwards. Stop apppass first.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if to == "" {
				return UsageError{"apppass store copy needs --to postgres://…; see apppass store copy --help"}
			}
			from := env.getenv("APPPASS_DB")
			if from == "" {
				from = "apppass.db"
			}
			return StoreCopy(cmd.Context(), from, to, env.stdout)
		},
	}
	cp.Flags().StringVar(&to, "to", "", "the PostgreSQL database to copy into (postgres://…)")
	store.AddCommand(cp)
	return store
}
