package gateway

import "sync/atomic"

// Metrics counts what the gateway did; the root package may export them.
type Metrics struct {
	loginsOK, loginsRefused, loginsLimited, loginsTemporary   atomic.Int64
	messages, messageBytes, deliveryTemporary, deliveryFailed atomic.Int64
}

// Stats is a snapshot of Metrics.
type Stats struct {
	LoginsOK, LoginsRefused, LoginsLimited, LoginsTemporary   int64
	Messages, MessageBytes, DeliveryTemporary, DeliveryFailed int64
	// Connections: what the limiter counted and refused.
	Connections LimiterStats
	// MemoryInUse and MemoryPeak are the message-body bytes held now and
	// at most since start.
	MemoryInUse, MemoryPeak int64
}

func (m *Metrics) login(outcome string) {
	switch outcome {
	case "ok":
		m.loginsOK.Add(1)
	case "refused":
		m.loginsRefused.Add(1)
	case "limited":
		m.loginsLimited.Add(1)
	default:
		m.loginsTemporary.Add(1)
	}
}

func (m *Metrics) snapshot() Stats {
	return Stats{
		LoginsOK: m.loginsOK.Load(), LoginsRefused: m.loginsRefused.Load(), LoginsLimited: m.loginsLimited.Load(),
		LoginsTemporary: m.loginsTemporary.Load(), Messages: m.messages.Load(), MessageBytes: m.messageBytes.Load(),
		DeliveryTemporary: m.deliveryTemporary.Load(), DeliveryFailed: m.deliveryFailed.Load(),
	}
}
