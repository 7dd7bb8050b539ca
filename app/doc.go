// Package app is apppass without the process: the command line (Run),
// and the wiring of every part (Main). `apppass serve` and `apppass
// gateway` go through one start-up path that opens the database, Entra's
// client, the health endpoint and the parts asked for, and closes and
// joins all of them again. main.go only turns signals into a context and
// errors into exit codes; the whole-system tests (here and in bot/, through
// package apptest) run the same Main against the fakes.
package app
