package csvfile

import (
	"context"
	"fmt"

	"github.com/idgraph/idgraph/collectors"
)

// Check reads the file as a collection would.
func (s *Source) Check(ctx context.Context) []collectors.Check {
	res, err := s.Collect(ctx, collectors.Request{})
	if err != nil {
		return []collectors.Check{{Name: "file", Detail: err.Error(), Fix: "fix the rows named, or the path"}}
	}
	return []collectors.Check{{Name: "file", OK: true, Detail: fmt.Sprintf("%s: %d records", s.cfg.Path, res.Completeness.Records)}}
}
