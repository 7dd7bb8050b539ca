package metrics

import "github.com/prometheus/client_golang/prometheus"

// GatewayCounts are the mail gateway's counters since it started: logins
// and messages by outcome, and the bytes of messages sent.
type GatewayCounts struct {
	Logins   map[string]int64
	Messages map[string]int64
	Bytes    int64
}

// Gateway exports the mail gateway's counters, read from counts at each
// scrape, as apppass_gateway_logins_total{outcome},
// apppass_gateway_messages_total{outcome} and
// apppass_gateway_sent_bytes_total. The gateway keeps its own counters so
// that it needs no Prometheus import.
func (m *Metrics) Gateway(counts func() GatewayCounts) {
	if m == nil {
		return
	}
	m.reg.MustRegister(gatewayCollector{counts})
}

var (
	gatewayLoginsDesc = prometheus.NewDesc("apppass_gateway_logins_total",
		"Mail gateway AUTH attempts by outcome (ok, refused, limited, temporary).", []string{"outcome"}, nil)
	gatewayMessagesDesc = prometheus.NewDesc("apppass_gateway_messages_total",
		"Messages the mail gateway handled, by outcome (sent, temporary, failed).", []string{"outcome"}, nil)
	gatewayBytesDesc = prometheus.NewDesc("apppass_gateway_sent_bytes_total",
		"Bytes of messages the mail gateway relayed through Graph.", nil, nil)
)

type gatewayCollector struct{ counts func() GatewayCounts }

func (c gatewayCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- gatewayLoginsDesc
	ch <- gatewayMessagesDesc
	ch <- gatewayBytesDesc
}

func (c gatewayCollector) Collect(ch chan<- prometheus.Metric) {
	n := c.counts()
	for outcome, v := range n.Logins {
		ch <- prometheus.MustNewConstMetric(gatewayLoginsDesc, prometheus.CounterValue, float64(v), outcome)
	}
	for outcome, v := range n.Messages {
		ch <- prometheus.MustNewConstMetric(gatewayMessagesDesc, prometheus.CounterValue, float64(v), outcome)
	}
	ch <- prometheus.MustNewConstMetric(gatewayBytesDesc, prometheus.CounterValue, float64(n.Bytes))
}
