package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"

	"github.com/stagescope/stagescope/engine"
)

// Eight targets built together share one session, and the stage they all
// build on runs once: each run of it appends a line to a cache mount, which
// a last build counts.
func TestBuildAllRunsSharedStagesOnce(t *testing.T) {
	engines(t, func(t *testing.T, e *engine.Engine) {
		id := fmt.Sprintf("stagescope-count-%d", time.Now().UnixNano())
		df := "FROM busybox AS shared\nRUN --mount=type=cache,id=" + id + ",target=/c echo ran >> /c/count && sleep 2 && echo shared > /shared\n" +
			"FROM shared AS middle\nRUN echo middle > /middle\n"
		var targets []string
		for i := range 8 {
			base := "shared"
			if i%2 == 1 {
				base = "middle"
			}
			name := fmt.Sprintf("t%d", i)
			targets = append(targets, name)
			df += fmt.Sprintf("FROM %s AS %s\nRUN echo %d > /t\n", base, name, i)
		}
		df += "FROM busybox AS count\nRUN --mount=type=cache,id=" + id + ",target=/c echo runs=$(wc -l < /c/count)\n"
		base := project(t, map[string]string{"Dockerfile": df})
		var reqs []engine.BuildRequest
		var chans []chan *client.SolveStatus
		for _, target := range targets {
			r := base
			r.Target = target
			reqs = append(reqs, r)
			chans = append(chans, nil)
		}
		results, errs := e.BuildAll(context.Background(), reqs, chans)
		if err := engine.FirstError(errs); err != nil {
			t.Fatal(err)
		}
		if len(results) != 8 {
			t.Fatalf("%d results", len(results))
		}
		count := base
		count.Target = "count"
		// No NoCache here: it would also start the cache mount empty.
		logs, err := buildLogs(e, count)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(logs, "runs=1") {
			t.Errorf("the shared stage ran more than once: %q", logs)
		}
	})
}
