package handlers

// Limits are the per-person limit rules, shared by the commands (which
// refuse a password over the limit) and the jobs (which warn near it).
type Limits struct {
	MaxPerUser int // the most app passwords one person may hold
	WarnAt     int // from this many on, a person is warned
}

// Full reports whether someone holding held app passwords may not create
// another: held >= MaxPerUser (39 no, 40 yes).
func (l Limits) Full(held int) bool { return held >= l.MaxPerUser }

// Near reports whether someone holding held app passwords is to be warned:
// held >= WarnAt (34 no, 35 yes).
func (l Limits) Near(held int) bool { return held >= l.WarnAt }
