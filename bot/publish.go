package bot

import (
	"context"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/handlers"
)

// PublishRevocation shows everyone concerned how revocation request req
// now stands: it rewrites the helpdesk message in place and DMs the
// employee and the requester, and tells the Bot (homeChanges) whose Home
// tab to publish again. Failures are logged: the decision itself is
// recorded. The jobs call it after an expiry or a resumed approval.
func (s *Slack) PublishRevocation(ctx context.Context, req domain.RevocationRequest) {
	s.publishRevocation(ctx, req)
	ids := handlers.RevocationChange(req).RefreshHome
	if len(ids) == 0 {
		return
	}
	select {
	case s.homeChanges <- ids:
	default:
		s.log.DebugContext(ctx, "home tabs not refreshed: no bot is taking changes", "request", req.ID)
	}
}

// publishRevocation is PublishRevocation but for the Home tabs, which the
// Bot refreshes itself after its own decisions.
func (s *Slack) publishRevocation(ctx context.Context, req domain.RevocationRequest) {
	s.updateRequestMessage(ctx, req)
	s.notifyOutcome(ctx, req)
}

// updateRequestMessage rewrites the helpdesk message in place with the
// request's state.
func (s *Slack) updateRequestMessage(ctx context.Context, req domain.RevocationRequest) {
	if req.Channel == "" || req.MessageTS == "" {
		return
	}
	text, blocks := requestMessage(req)
	if err := s.update(ctx, req.Channel, req.MessageTS, text, blocks); err != nil {
		s.log.ErrorContext(ctx, "request message not updated", "request", req.ID, "err", err)
	}
}

// revokedDM is the DM telling an employee which of their app passwords
// were revoked, at whose request, approved by whom and why; "" when none
// was removed. However many names and however long the reason, it fits
// one section.
func revokedDM(req domain.RevocationRequest) string {
	var removed []string
	for _, it := range req.Items {
		if it.Outcome == domain.OutcomeRemoved {
			removed = append(removed, "• *"+verbatim(it.Password.Name)+"*")
		}
	}
	if len(removed) == 0 {
		return ""
	}
	head := fmt.Sprintf(":lock: %s of your app passwords %s revoked at the request of %s, approved by %s.\n*Reason:* %s",
		strconv.Itoa(len(removed)), domain.Plural(len(removed), "was", "were"), actorRef(req.RequesterSlack), actorRef(req.DecidedSlack), clip(verbatim(req.Reason), maxReasonShown/2))
	tail := "Devices using them can no longer sign in. `/apppass create NAME` makes a new one if you still need it."
	budget := maxSectionText - utf8.RuneCountInString(head) - utf8.RuneCountInString(tail) - 2
	return head + "\n" + joinRows(removed, budget, andMore) + "\n" + tail
}

// notifyOutcome tells the employee what was revoked, by whom and why, and
// the requester how it went. No secrets exist at this point to leak.
func (s *Slack) notifyOutcome(ctx context.Context, req domain.RevocationRequest) {
	if req.Status == domain.RevocationDone || req.Status == domain.RevocationPartial {
		if msg := revokedDM(req); msg != "" && req.TargetSlack != "" {
			s.dmOrLog(ctx, req.TargetSlack, msg)
		}
	}
	// A request apppass filed itself (offboarding) has nobody to tell
	// but the helpdesk channel, where the request message shows the outcome.
	if actorRef(req.RequesterSlack) == "apppass" {
		return
	}
	switch req.Status {
	case domain.RevocationDone, domain.RevocationPartial:
		s.dmOrLog(ctx, req.RequesterSlack, fmt.Sprintf("Your revocation request #%d for %s was approved by <@%s>: %s.",
			req.ID, escape(req.TargetName), req.DecidedSlack, outcomeSummary(req)))
	case domain.RevocationDenied:
		s.dmOrLog(ctx, req.RequesterSlack, fmt.Sprintf("Your revocation request #%d for %s was denied by <@%s>. Reason: %s",
			req.ID, escape(req.TargetName), req.DecidedSlack, verbatim(req.DenyReason)))
	case domain.RevocationExpired:
		s.dmOrLog(ctx, req.RequesterSlack, fmt.Sprintf("Your revocation request #%d for %s expired without a decision; nothing was revoked.",
			req.ID, escape(req.TargetName)))
	}
}

// PostRevocationRequest posts a request apppass filed on its own behalf
// (offboarding) to the helpdesk channel, with its Approve and Deny
// buttons, and returns where it is. It returns an error when no helpdesk
// channel is set or Slack did not take it.
func (s *Slack) PostRevocationRequest(ctx context.Context, req domain.RevocationRequest) (channel, ts string, err error) {
	if s.helpdeskChannel == "" {
		return "", "", fmt.Errorf("post revocation request: APPPASS_HELPDESK_CHANNEL is not set")
	}
	text, blocks := requestMessage(req)
	if ts, err = s.post(ctx, s.helpdeskChannel, text, blocks); err != nil {
		return "", "", fmt.Errorf("post revocation request: %w", err)
	}
	return s.helpdeskChannel, ts, nil
}
