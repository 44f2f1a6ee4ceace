package pipeline

// The edge: the configuration file decoded into the sources and the plain
// policy values a run takes. The CLI, the service and `doctor` build
// sources through here, so that a check and a run see the same sources.

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/config"
)

// Built is what one source key of the configuration produced.
type Built struct {
	Key        string // the configuration key, e.g. "okta"
	Collectors []collectors.Collector
	Err        error // a *config.Error naming file and key; nil when built
}

// BuildEach builds every source key of the configuration, going on after
// one fails, for `doctor`, which reports each.
func BuildEach(cfg *config.Config, getenv func(string) string, log *slog.Logger) []Built {
	env := collectors.Env{File: cfg.File, Dir: cfg.Dir, Getenv: getenv, Logger: log}
	var out []Built
	names := map[string]bool{}
	for _, sn := range cfg.Sources {
		b := Built{Key: sn.Name}
		f, ok := collectors.Lookup(sn.Name)
		if !ok {
			b.Err = &config.Error{Err: fmt.Errorf("%s: unknown source %q", cfg.File, sn.Name)}
			out = append(out, b)
			continue
		}
		cs, err := f(sn.Node, env)
		if err != nil {
			var ce *config.Error
			if !errors.As(err, &ce) {
				err = &config.Error{Err: err}
			}
			b.Err = err
		}
		for _, c := range cs {
			n := c.Info().Name
			if names[n] {
				b.Err = &config.Error{Err: fmt.Errorf("%s: two sources are named %q; names must be unique", cfg.File, n)}
				break
			}
			names[n] = true
			b.Collectors = append(b.Collectors, c)
		}
		out = append(out, b)
	}
	return out
}

// Build makes the collectors the configuration names, through the
// registry; the first error stops it.
func Build(cfg *config.Config, getenv func(string) string, log *slog.Logger) ([]collectors.Collector, error) {
	var out []collectors.Collector
	for _, b := range BuildEach(cfg, getenv, log) {
		if b.Err != nil {
			return nil, b.Err
		}
		out = append(out, b.Collectors...)
	}
	if len(out) == 0 {
		return nil, &config.Error{Err: fmt.Errorf("%s: no source is configured (add okta, entra, stonly, scim or csvfile)", cfg.File)}
	}
	return out, nil
}

// Infos lists the sources' descriptions.
func Infos(srcs []collectors.Collector) []collectors.Info {
	out := make([]collectors.Info, len(srcs))
	for i, c := range srcs {
		out[i] = c.Info()
	}
	return out
}

// PolicyOf decodes the policy of a run from the configuration and the
// sources built from it (whose declarations name the applications and
// their ladders). Errors are *config.Error.
func PolicyOf(cfg *config.Config, srcs []collectors.Collector) (Policy, error) {
	apps, err := Apps(cfg.Roles, Infos(srcs), cfg.File)
	if err != nil {
		return Policy{}, err
	}
	links := make([][]string, 0, len(cfg.Links))
	for _, l := range cfg.Links {
		links = append(links, l.Accounts)
	}
	return Policy{
		Apps: apps, Aliases: cfg.Domains.Aliases, StripPlus: cfg.Domains.StripPlus, Links: links,
		MaxDrop: cfg.MaxDrop(), AcceptDrop: cfg.Guard.AcceptDrop, SourceTimeout: cfg.SourceTimeout(),
		ConfigHash: cfg.Hash,
	}, nil
}
