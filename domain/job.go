package domain

import "time"

// How a run of a job ended (JobRun.Outcome).
const (
	JobRunning = "running" // started; still running, or the process died
	JobOK      = "ok"
	JobFailed  = "failed"
)

// JobRun is one run of a job, as the job runner records it in the store.
type JobRun struct {
	ID  int64
	Job string
	// Instance names the process (and run) that held the job's lease,
	// e.g. "host:1234#7".
	Instance string
	Start    time.Time
	End      time.Time // zero while running
	Outcome  string    // JobRunning, JobOK or JobFailed
	Counts   Counts
	Error    string // why it failed
}

// Counts are a job run's tallies by name (e.g. "holders", "sent",
// "unreachable"), or a hygiene report's figures.
type Counts map[string]int

// KnownPerson is what the store remembers of someone who used apppass.
type KnownPerson struct {
	SlackID string
	UPN     string
	Email   string
}
