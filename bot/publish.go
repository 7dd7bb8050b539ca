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
// tab to publish again. It returns the removed passwords whose owners
// it told. Failures are logged: the decision itself is recorded. The jobs
// call it after an expiry or a resumed approval.
func (s *Slack) PublishRevocation(ctx context.Context, req domain.RevocationRequest) (told []string) {
	told = s.publishRevocation(ctx, req)
	ids := handlers.RevocationChange(req).RefreshHome
	if len(ids) == 0 {
		return told
	}
	select {
	case s.homeChanges <- ids:
	default:
		s.log.DebugContext(ctx, "home tabs not refreshed: no bot is taking changes", "request", req.ID)
	}
	return told
}

// publishRevocation is PublishRevocation but for the Home tabs, which the
// Bot refreshes itself after its own decisions.
func (s *Slack) publishRevocation(ctx context.Context, req domain.RevocationRequest) (told []string) {
	s.updateRequestMessage(ctx, req)
	return s.notifyOutcome(ctx, req)
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

// revokedDM is the DM telling one of req's people, targetID, which of
// their app passwords were revoked (and they were not yet told of), at
// whose request, approved by whom and why, and the key ids it tells of;
// "" when there is nothing new to tell. It names nobody else of a request
// for several people. However many names and however long the reason,
// it fits one section.
func revokedDM(req domain.RevocationRequest, targetID string) (string, []string) {
	var removed, keys []string
	for _, it := range req.ItemsOf(targetID) {
		if it.Outcome == domain.OutcomeRemoved && !it.Notified {
			removed = append(removed, "• *"+verbatim(it.Password.Name)+"*")
			keys = append(keys, it.Password.KeyID)
		}
	}
	if len(removed) == 0 {
		return "", nil
	}
	head := fmt.Sprintf(":lock: %s of your app passwords %s revoked at the request of %s, approved by %s.\n*Reason:* %s",
		strconv.Itoa(len(removed)), domain.Plural(len(removed), "was", "were"), actorRef(req.RequesterSlack), actorRef(req.DecidedSlack), clip(verbatim(req.Reason), maxReasonShown/2))
	tail := "Devices using them can no longer sign in. `/apppass create NAME` makes a new one if you still need it."
	budget := maxSectionText - utf8.RuneCountInString(head) - utf8.RuneCountInString(tail) - 2
	return head + "\n" + joinRows(removed, budget, andMore) + "\n" + tail, keys
}

// notifyOutcome tells each of the people what of theirs was revoked, by
// whom and why (each in their own DM, about their own passwords not told
// of before), and the requester how it went, and returns the key ids
// whose owners it told. No secrets exist at this point to leak.
func (s *Slack) notifyOutcome(ctx context.Context, req domain.RevocationRequest) (told []string) {
	if req.Status == domain.RevocationDone || req.Status == domain.RevocationPartial {
		for _, t := range req.Targets {
			msg, keys := revokedDM(req, t.ID)
			if msg == "" || t.Slack == "" {
				continue
			}
			if s.dmOrLog(ctx, t.Slack, msg) {
				told = append(told, keys...)
			}
		}
	}
	// A request apppass filed itself (offboarding) has nobody to tell
	// but the helpdesk channel, where the request message shows the outcome.
	if actorRef(req.RequesterSlack) == "apppass" {
		return told
	}
	switch req.Status {
	case domain.RevocationDone, domain.RevocationPartial:
		s.dmOrLog(ctx, req.RequesterSlack, fmt.Sprintf("Your revocation request #%d for %s was approved by <@%s>: %s.",
			req.ID, whom(req), req.DecidedSlack, outcomeSummary(req)))
	case domain.RevocationDenied:
		s.dmOrLog(ctx, req.RequesterSlack, fmt.Sprintf("Your revocation request #%d for %s was denied by <@%s>. Reason: %s",
			req.ID, whom(req), req.DecidedSlack, verbatim(req.DenyReason)))
	case domain.RevocationExpired:
		s.dmOrLog(ctx, req.RequesterSlack, fmt.Sprintf("Your revocation request #%d for %s expired without a decision; nothing was revoked.",
			req.ID, whom(req)))
	}
	return told
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
