package serve

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/store"
)

// metrics are the service's Prometheus metrics, on a registry of its own.
type metrics struct {
	reg        *prometheus.Registry
	runs       *prometheus.CounterVec
	duration   prometheus.Histogram
	records    *prometheus.GaugeVec
	complete   *prometheus.GaugeVec
	findings   *prometheus.GaugeVec
	lastOK     prometheus.Gauge
	deliveries *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry(),
		runs:       prometheus.NewCounterVec(prometheus.CounterOpts{Name: "idgraph_runs_total", Help: "Runs by result: ok, incomplete, failed."}, []string{"result"}),
		duration:   prometheus.NewHistogram(prometheus.HistogramOpts{Name: "idgraph_run_duration_seconds", Help: "Duration of runs.", Buckets: prometheus.ExponentialBuckets(1, 2, 14)}),
		records:    prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "idgraph_source_records", Help: "Records read per source in the latest snapshot."}, []string{"source"}),
		complete:   prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "idgraph_source_complete", Help: "1 if the source was complete in the latest snapshot."}, []string{"source"}),
		findings:   prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "idgraph_findings", Help: "Open findings of the latest snapshot by kind and severity."}, []string{"kind", "severity"}),
		lastOK:     prometheus.NewGauge(prometheus.GaugeOpts{Name: "idgraph_last_success_timestamp_seconds", Help: "Unix time at which the latest snapshot with every source complete finished."}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "idgraph_alert_deliveries_total", Help: "Alert deliveries by result."}, []string{"result"}),
	}
	m.reg.MustRegister(m.runs, m.duration, m.records, m.complete, m.findings, m.lastOK, m.deliveries,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// restore sets the gauges from the store, as the runs that wrote it left
// them: without it every restart reads as "never succeeded" and staleness
// alerts fire after each deploy.
func (m *metrics) restore(ctx context.Context, st *store.Store) error {
	list, err := st.List(ctx)
	if err != nil {
		return fmt.Errorf("serve: loading the metrics of the latest snapshot: %w", err)
	}
	if len(list) == 0 {
		return nil
	}
	latest := list[0]
	fs, err := st.Findings(ctx, latest.ID)
	if err != nil {
		return fmt.Errorf("serve: loading the findings of snapshot %d for the metrics: %w", latest.ID, err)
	}
	m.setSnapshot(latest.Sources, fs)
	for _, sum := range list { // newest first
		if sum.Complete {
			m.setLastOK(sum.FinishedAt)
			break
		}
	}
	return nil
}

func (m *metrics) setLastOK(t time.Time) { m.lastOK.Set(float64(t.UnixNano()) / 1e9) }

// setSnapshot sets the source and findings gauges to one snapshot's.
func (m *metrics) setSnapshot(sources []store.Source, fs []diff.Finding) {
	m.records.Reset()
	m.complete.Reset()
	for _, src := range sources {
		m.records.WithLabelValues(src.Info.Name).Set(float64(src.Completeness.Records))
		c := 0.0
		if src.Completeness.Complete {
			c = 1
		}
		m.complete.WithLabelValues(src.Info.Name).Set(c)
	}
	m.findings.Reset()
	for _, f := range fs {
		if f.State == diff.StateOpen {
			m.findings.WithLabelValues(f.Kind, f.Severity).Inc()
		}
	}
}

func (m *metrics) observe(res *RunResult, err error, d time.Duration) {
	m.duration.Observe(d.Seconds())
	switch {
	case err != nil || res == nil || res.Snapshot == nil:
		m.runs.WithLabelValues("failed").Inc()
		return
	case len(res.Incomplete) > 0:
		m.runs.WithLabelValues("incomplete").Inc()
	default:
		m.runs.WithLabelValues("ok").Inc()
		m.setLastOK(res.Snapshot.FinishedAt)
	}
	m.setSnapshot(res.Snapshot.Sources, res.Snapshot.Findings)
	m.deliveries.WithLabelValues("delivered").Add(float64(res.Alerts.Delivered))
	m.deliveries.WithLabelValues("pending").Add(float64(res.Alerts.Pending))
}
