package app_test

import (
	"testing"

	"github.com/apppass/apppass/app/apptest"
)

// harness is apptest's harness, with the helpers of this package's tests.
type harness struct{ *apptest.Harness }

func newHarness(t testing.TB) *harness { return &harness{apptest.NewHarness(t)} }

// start runs apppass until the test ends.
func (h *harness) start() *harness { h.Harness.Start(); return h }

// The people, channels and groups of apptest's organisation.
const (
	alice         = apptest.Alice
	bob           = apptest.Bob
	dave          = apptest.Dave
	erin          = apptest.Erin
	nomail        = apptest.Nomail
	adam          = apptest.Adam
	hana          = apptest.Hana
	hugo          = apptest.Hugo
	holly         = apptest.Holly
	channel       = apptest.Channel
	adminGroup    = apptest.AdminGroup
	helpdeskGroup = apptest.HelpdeskGroup
	helpdesk      = apptest.Helpdesk
)

var (
	messageText     = apptest.MessageText
	eachBlockObject = apptest.EachBlockObject
	buttons         = apptest.Buttons
	entraID         = apptest.EntraID
)
