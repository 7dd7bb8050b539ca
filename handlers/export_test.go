package handlers

// RecordMargin is recordMargin, for tests that run an approval out of
// time.
const RecordMargin = recordMargin
