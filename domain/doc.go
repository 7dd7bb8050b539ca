// Package domain is apppass's vocabulary: every type that crosses a
// package boundary, and nothing that talks to the outside world.
//
//   - people and app passwords (password.go): User, Actor, Password,
//     Application, Created, AuditEvent, and the naming rules;
//   - credential records (credential.go), the metadata apppass keeps of
//     every credential it asked Entra for;
//   - revocation requests and their statuses (revocation.go);
//   - job runs and their counts, notices and hygiene reports
//     (job.go, notice.go, report.go);
//   - the one error vocabulary (error.go) and the redacting Secret
//     (secret.go);
//   - two small helpers every adapter needs: Clip and Sleep (text.go).
//
// It imports nothing from Slack, Graph or SQL, nor any other apppass
// package, so that every other package can depend on it.
package domain
