package graphclient_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/fakeentra"
)

// multi builds a message with one attachment of each size; it returns the
// message and the attachments.
func multi(sizes ...int) ([]byte, [][]byte) {
	var b strings.Builder
	b.WriteString("From: alice@contoso.test\r\nTo: bob@example.test\r\nSubject: scans\r\nMIME-Version: 1.0\r\n")
	b.WriteString("Content-Type: multipart/mixed; boundary=\"=_b\"\r\n\r\n--=_b\r\nContent-Type: text/plain\r\n\r\nScans.\r\n")
	var atts [][]byte
	for i, n := range sizes {
		a := make([]byte, n)
		rand.Read(a)
		atts = append(atts, a)
		fmt.Fprintf(&b, "--=_b\r\nContent-Type: application/pdf; name=\"s%d.pdf\"\r\nContent-Disposition: attachment; filename=\"s%d.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n", i, i)
		enc := base64.StdEncoding.EncodeToString(a)
		for j := 0; j < len(enc); j += 76 {
			b.WriteString(enc[j:min(j+76, len(enc))] + "\r\n")
		}
	}
	b.WriteString("--=_b--\r\n")
	return []byte(b.String()), atts
}

// TestSendMailDelivery covers what a delivery must survive on Graph: small
// cut-out attachments, the field-reported 200, a missing Mail.ReadWrite,
// and sends whose answer is lost.
func TestSendMailDelivery(t *testing.T) {
	small, _ := multi(1 << 20)
	four, fourAtts := multi(1_500_000, 1_500_000, 1_500_000, 1_500_000)
	mixed, mixedAtts := multi(3_600_000, 100_000)
	tests := []struct {
		name        string
		msg         []byte
		fault       map[string]fakeentra.Fault
		noReadWrite bool
		wantKind    domain.Kind // KindInternal: delivered
		unconfirmed bool
		wantVia     string
		wantSent    int
		check       func(t *testing.T, s *fakeentra.Server, m fakeentra.SentMessage)
	}{
		{name: "four 1.5 MB attachments go as plain attachments", msg: four, wantVia: fakeentra.ViaDraft, wantSent: 1,
			check: func(t *testing.T, s *fakeentra.Server, m fakeentra.SentMessage) {
				if s.Count(fakeentra.OpCreateUploadSession) != 0 {
					t.Error("an upload session for an attachment under 3 MB")
				}
				found := 0
				for _, a := range fourAtts {
					if bytes.Contains(m.MIME, []byte(base64.StdEncoding.EncodeToString(a[:57]))) {
						found++
					}
				}
				if s.Count(fakeentra.OpAddAttachment) == 0 {
					t.Error("no attachment was added to the draft")
				}
				if found != 4 {
					t.Errorf("%d of 4 attachments arrived", found)
				}
			}},
		{name: "3.6 MB by upload session, 100 KB kept in the draft", msg: mixed, wantVia: fakeentra.ViaDraft, wantSent: 1,
			check: func(t *testing.T, s *fakeentra.Server, m fakeentra.SentMessage) {
				if s.Count(fakeentra.OpCreateUploadSession) != 1 || len(m.Attachments) != 1 || !bytes.Equal(m.Attachments[0].Data, mixedAtts[0]) {
					t.Errorf("upload sessions %d, attachments %d", s.Count(fakeentra.OpCreateUploadSession), len(m.Attachments))
				}
			}},
		{name: "sendMail answered 200 goes as a draft", msg: small, wantVia: fakeentra.ViaDraft, wantSent: 1,
			fault: map[string]fakeentra.Fault{fakeentra.OpSendMail: {Status: 200}}},
		{name: "no Mail.ReadWrite: forbidden, no draft", msg: four, noReadWrite: true, wantKind: domain.KindForbidden},
		{name: "send refused: draft deleted", msg: four, wantKind: domain.KindInvalid,
			fault: map[string]fakeentra.Fault{fakeentra.OpSendDraft: {Status: 400, Code: "ErrorInvalidRecipients"}}},
		{name: "send answered 200 and not sent: draft deleted, try again", msg: four, wantKind: domain.KindUpstream,
			fault: map[string]fakeentra.Fault{fakeentra.OpSendDraft: {Status: 200}}},
		{name: "send lost before Graph acted: draft deleted, try again", msg: four, wantKind: domain.KindUpstream,
			fault: map[string]fakeentra.Fault{fakeentra.OpSendDraft: {Disconnect: true}}},
		{name: "send lost after Graph sent: unconfirmed, not sent twice", msg: four, unconfirmed: true, wantVia: fakeentra.ViaDraft, wantSent: 1,
			fault: map[string]fakeentra.Fault{fakeentra.OpSendDraft: {Disconnect: true, AfterEffect: true}}},
		{name: "sendMail lost after Graph sent: unconfirmed, not sent twice", msg: small, unconfirmed: true, wantVia: fakeentra.ViaSendMail, wantSent: 1,
			fault: map[string]fakeentra.Fault{fakeentra.OpSendMail: {Disconnect: true, AfterEffect: true}}},
		{name: "504 on send is not retried blindly", msg: four, unconfirmed: true, wantVia: fakeentra.ViaDraft, wantSent: 1,
			fault: map[string]fakeentra.Fault{fakeentra.OpSendDraft: {Status: 504, AfterEffect: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fakeentra.New(t)
			s.AddUser(fakeentra.User{ID: "u1", UserPrincipalName: "alice@contoso.test", Mail: "alice@contoso.test", AccountEnabled: true})
			c := MustClient(t, s)
			for op, f := range tt.fault {
				s.Inject(op, f)
			}
			if tt.noReadWrite {
				s.RestrictMailReadWrite([]string{})
			}
			cx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			sent, err := c.SendMail(cx, "u1", tt.msg)
			box := s.Mailbox("u1")
			if s.Drafts("u1") != 0 {
				t.Errorf("%d drafts left in Drafts", s.Drafts("u1"))
			}
			if n := s.Count(fakeentra.OpSendDraft); n > 1 {
				t.Errorf("send was called %d times", n)
			}
			if tt.wantKind != domain.KindInternal {
				if err == nil || domain.KindOf(err) != tt.wantKind {
					t.Fatalf("SendMail = %+v, %v (kind %v), want kind %v", sent, err, domain.KindOf(err), tt.wantKind)
				}
				if len(box) != 0 {
					t.Error("a refused message was delivered")
				}
				return
			}
			if err != nil {
				t.Fatalf("SendMail = %v", err)
			}
			if sent.Unconfirmed != tt.unconfirmed {
				t.Errorf("Unconfirmed = %v, want %v", sent.Unconfirmed, tt.unconfirmed)
			}
			if len(box) != tt.wantSent {
				t.Fatalf("delivered %d, want %d", len(box), tt.wantSent)
			}
			if box[0].Via != tt.wantVia {
				t.Errorf("via %s, want %s", box[0].Via, tt.wantVia)
			}
			if tt.check != nil {
				tt.check(t, s, box[0])
			}
		})
	}
}
