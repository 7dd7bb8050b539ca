package fakeentra

import "net/http"

// Sign-in report failures other than the missing licence (403, see
// [Server.EnableSignInActivity]), for [Server.FailSignInActivity].
const (
	// SignInNotInCloud is what a national cloud (US Government, China)
	// answers where the beta report is not deployed: 400 BadRequest,
	// "Resource not found for the segment 'appCredentialSignInActivities'."
	SignInNotInCloud = "notInCloud"
	// SignInServerError is a persistent 500 InternalServerError.
	SignInServerError = "serverError"
	// SignInNotFound is 404 Request_ResourceNotFound, as when the beta
	// endpoint is withdrawn.
	SignInNotFound = "notFound"
)

// FailSignInActivity makes every GET /beta/reports/appCredentialSignInActivities
// fail the given way (a SignIn… constant) until called with "". Unlike a
// queued [Fault], it lasts, like the cloud or tenant conditions it stands for.
func (s *Server) FailSignInActivity(kind string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signInFailure = kind
}

// signInFailureError returns the error of the configured sign-in report
// failure, or status 0; s.mu must be held.
func (s *Server) signInFailureError() (int, string, string) {
	switch s.signInFailure {
	case SignInNotInCloud:
		return http.StatusBadRequest, "BadRequest", "Resource not found for the segment 'appCredentialSignInActivities'."
	case SignInServerError:
		return http.StatusInternalServerError, "InternalServerError", "Internal server error."
	case SignInNotFound:
		return http.StatusNotFound, "Request_ResourceNotFound", "Resource 'appCredentialSignInActivities' does not exist."
	}
	return 0, "", ""
}
