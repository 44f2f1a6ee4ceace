package config

import (
	"errors"
	"strings"
	"testing"
)

// TestServeTimezone: serve.timezone is an IANA name checked when the file
// loads, so a typo stops `serve` at its start and `doctor`, not at 02:00.
func TestServeTimezone(t *testing.T) {
	for _, tt := range []struct {
		name, serve string
		want        string // "" when the file is valid
	}{
		{"absent: the machine's zone", `{schedule: "0 2 * * *"}`, ""},
		{"an IANA name", `{schedule: "0 2 * * *", timezone: Europe/Paris}`, ""},
		{"UTC", `{timezone: UTC}`, ""},
		{"a typo", `{timezone: Europe/Pari}`, `serve.timezone "Europe/Pari" is not a time zone of the tz database`},
		{"an abbreviation", `{timezone: CEST}`, "use an IANA name such as Europe/Paris"},
		{"an offset", `{timezone: "+02:00"}`, `serve.timezone "+02:00"`},
		{"a zone in the schedule too", `{schedule: "CRON_TZ=Asia/Tokyo 0 2 * * *", timezone: Europe/Paris}`, "serve.schedule begins with CRON_TZ=Asia/Tokyo and serve.timezone is Europe/Paris"},
		{"a zone in the schedule only", `{schedule: "CRON_TZ=Asia/Tokyo 0 2 * * *"}`, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte("store: x.db\nserve: "+tt.serve+"\n"), "/etc/idgraph/idgraph.yaml", nil)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(tt.serve, "timezone") && cfg.Serve.Timezone != "" {
					t.Errorf("timezone %q without the key", cfg.Serve.Timezone)
				}
				return
			}
			var ce *Error
			if err == nil || !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want a *config.Error with %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), "/etc/idgraph/idgraph.yaml") {
				t.Errorf("the error does not name the file: %v", err)
			}
		})
	}
	cfg, err := Parse([]byte("store: x.db\nserve: {timezone: America/New_York}\n"), "/etc/idgraph/idgraph.yaml", nil)
	if err != nil || cfg.Serve.Timezone != "America/New_York" {
		t.Fatalf("%v %+v", err, cfg)
	}
}
