// Command apppass is a Slack app through which employees manage their own
// Microsoft 365 / Entra app passwords, with a mail gateway that lets
// devices send and read mail with them. Everything it does lives in
// package app; this doorway turns signals into a context and exit codes.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/apppass/apppass/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := app.Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "apppass:", err)
		var u app.UsageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}
