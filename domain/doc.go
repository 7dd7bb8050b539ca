// Package domain holds apppass's vocabulary: the people and app passwords it
// manages, the one error type every layer speaks, and the Secret type that
// keeps a new password out of logs and formatted output.
//
// It imports nothing from Slack, Graph or SQL so that every other package
// can depend on it.
package domain
